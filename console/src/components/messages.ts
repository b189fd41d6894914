/** Words the shared list components show (their own i18n scope: the modules' locales stay
 * theirs). Same keys in both languages (a test checks). */
export const componentMessages = {
  'zh-CN': {
    prev: '上一页',
    next: '下一页',
    page: '第 {n} 页',
    masked: '已脱敏',
    confirmTitle: '请确认',
    ok: '确定',
    cancel: '取消',
    done: '操作成功',
    retry: '重试',
    loadFailed: '加载失败',
    set: '已设置',
    notSet: '未设置',
  },
  en: {
    prev: 'Previous',
    next: 'Next',
    page: 'Page {n}',
    masked: 'masked',
    confirmTitle: 'Please confirm',
    ok: 'OK',
    cancel: 'Cancel',
    done: 'Done',
    retry: 'Retry',
    loadFailed: 'Could not load',
    set: 'set',
    notSet: 'not set',
  },
}
