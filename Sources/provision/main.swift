import Foundation
import Modules
import Provisioner

// The command stays thin: everything lives in Provisioner (engine) and Modules.
exit(ProvisionCommand.main(Array(CommandLine.arguments.dropFirst()), modules: ModuleCatalog.all, composeConverter: { try ComposeConvert.convert($0) }))
