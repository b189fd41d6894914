export default {
  dashboard: {
    menu: { dashboard: '仪表盘' },
    days: '最近 {n} 天',
    registrationsActive: '注册与活跃用户',
    registrations: '注册用户',
    activeUsers: '活跃用户',
    loginsByMethod: '按登录方式统计的登录次数',
    pendingWithdrawals: '待处理提现',
    pendingWithdrawalsAmount: '金额 {amount}',
    pendingAdjustments: '待审批补录',
    walletTotals: '各资产钱包余额合计',
    total: '合计',
    unavailable: '统计接口暂不可用',
  },
}
