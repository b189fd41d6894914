import{A as e,Et as t,b as n,jt as r,s as i,x as a,xn as o}from"./css-b7547ThY.js";var s={prefix:Math.floor(Math.random()*1e4),current:0},c=Symbol(`elIdInjection`),l=()=>t()?r(c,s):s,u=t=>{let r=l();!a&&r===s&&e(`IdInjection`,`Looks like you are using server rendering, you must provide a id provider to ensure the hydration process to be succeed
usage: app.provide(ID_INJECTION_KEY, {
  prefix: number,
  current: number,
})`);let c=i();return n(()=>o(t)||`${c.value}-id-${r.prefix}-${r.current++}`)};export{l as n,u as t};