export default {
  dashboard: {
    menu: { dashboard: 'Dashboard' },
    days: 'Last {n} days',
    registrationsActive: 'Registrations and active users',
    registrations: 'Registrations',
    activeUsers: 'Active users',
    loginsByMethod: 'Logins by method',
    pendingWithdrawals: 'Pending withdrawals',
    pendingWithdrawalsAmount: 'Amount {amount}',
    pendingAdjustments: 'Adjustments awaiting approval',
    walletTotals: 'Wallet totals per asset',
    total: 'Total',
    unavailable: 'The statistics are not available yet',
  },
}
