// ElMessage / ElMessageBox imported by name, with the styles the on-demand resolver would have
// added had they been auto-imported (an explicit import skips the resolver).
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/message-box/style/css'

export { ElMessage, ElMessageBox } from 'element-plus'
