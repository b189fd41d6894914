import{E as e,O as t,V as n,Vn as r,Wt as i,Yt as a,s as o}from"./css-B_rWtNFS.js";var s={prefix:Math.floor(Math.random()*1e4),current:0},c=Symbol(`elIdInjection`),l=()=>i()?a(c,s):s,u=i=>{let a=l();!t&&a===s&&n(`IdInjection`,`Looks like you are using server rendering, you must provide a id provider to ensure the hydration process to be succeed
usage: app.provide(ID_INJECTION_KEY, {
  prefix: number,
  current: number,
})`);let c=o();return e(()=>r(i)||`${c.value}-id-${a.prefix}-${a.current++}`)};export{l as n,u as t};