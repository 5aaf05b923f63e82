import Foundation
import Provisioner

let version = "0.1.0"

let usage = """
usage: provision COMMAND [ARGS]

commands:
  debug yaml [--quiet]   read YAML on stdin, print one JSON value per document
                         (--quiet: only check it; the exit status says whether it is valid)
  debug toml [--quiet]   read TOML on stdin, print toml-test tagged JSON
  --version      print the version
  --help         this text
"""

extension CommandLine {
    /// Runs one command line and returns the exit status (Ansible's codes: 1 = bad input).
    static func run(_ args: [String]) -> Int32 {
        guard let command = args.first else {
            FileHandle.standardError.write(Data((usage + "\n").utf8))
            return 1
        }
        switch command {
        case "--version", "version":
            print("provision \(version)")
            return 0
        case "--help", "-h", "help":
            print(usage)
            return 0
        case "debug":
            return runDebug(Array(args.dropFirst()))
        default:
            fail("unknown command '\(command)' (try 'provision --help')")
            return 1
        }
    }

    static func runDebug(_ args: [String]) -> Int32 {
        let quiet = args.count == 2 && args[1] == "--quiet"
        guard args.count == 1 || quiet, let kind = args.first, kind == "yaml" || kind == "toml" else {
            fail("usage: provision debug yaml|toml [--quiet]  (reads stdin, writes JSON to stdout; --quiet only checks)")
            return 1
        }
        let input = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        do {
            if quiet {
                if kind == "yaml" { _ = try YAMLStream(input, file: "<stdin>") } else { _ = try TOMLTaggedJSON.render(input, file: "<stdin>") }
                return 0
            }
            let json = kind == "yaml"
                ? try YAMLJSON.render(input, file: "<stdin>")
                : try TOMLTaggedJSON.render(input, file: "<stdin>")
            FileHandle.standardOutput.write(Data(json.utf8))
            return 0
        } catch {
            fail("\(error)")
            return 1
        }
    }

    static func fail(_ message: String) {
        FileHandle.standardError.write(Data("provision: \(message)\n".utf8))
    }
}
