import Foundation
import Provisioner

// The command stays thin: it parses arguments and hands over to the engine.
exit(CommandLine.run(Array(CommandLine.arguments.dropFirst())))
