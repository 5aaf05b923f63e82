import Foundation

/// What `provision compose convert` asks of the compose translator (in Modules): the compose files, the
/// dotenv files, the project's name and profiles, and whose units they are.
public struct ComposeConversionRequest: Sendable {
    public var files: [(path: String, text: String)]
    public var envFiles: [(path: String, text: String)]
    public var projectName: String?
    public var profiles: [String]
    public var userScope: Bool

    public init(files: [(path: String, text: String)], envFiles: [(path: String, text: String)], projectName: String?,
                profiles: [String], userScope: Bool) {
        self.files = files
        self.envFiles = envFiles
        self.projectName = projectName
        self.profiles = profiles
        self.userScope = userScope
    }
}

/// One file of the translation: a unit, or a service's env file (secret: written 0600, not printed).
public struct ComposeConversionOutput: Sendable {
    public var file: String
    public var text: String
    public var secret: Bool

    public init(file: String, text: String, secret: Bool) {
        self.file = file
        self.text = text
        self.secret = secret
    }
}

public typealias ComposeConverter = @Sendable (ComposeConversionRequest) throws -> [ComposeConversionOutput]

extension ProvisionCommand {
    static let composeSpec = CommandSpec(
        name: "compose", synopsis: "compose convert FILE... [-o DIR] [-p NAME] [--env-file F] [--profile P] [--user]",
        summary: "Translate compose files into quadlet units (.container, .volume, .network), as the compose module's mode: quadlet writes them.",
        options: [
            OptionSpec(names: ["-o", "--output"], value: "DIR", help: "write the units into DIR (created) instead of printing them"),
            OptionSpec(names: ["-p", "--project-name"], value: "NAME", help: "the project's name (default: name: in the file, else its folder's name)"),
            OptionSpec(names: ["--env-file"], value: "FILE", help: "dotenv file with the variables ${VAR} uses (default: .env beside the first file)", repeatable: true),
            OptionSpec(names: ["--profile"], value: "P", help: "enable a profile", repeatable: true),
            OptionSpec(names: ["--user"], help: "units for a user's systemd (default.target) rather than root's"),
            OptionSpec(names: ["-h", "--help"], help: "this help"),
        ])

    static func compose(_ options: ParsedOptions, converter: ComposeConverter?) throws -> Int32 {
        guard options.positionals.first == "convert", options.positionals.count >= 2 else {
            throw UsageError(message: "usage: provision \(composeSpec.synopsis)")
        }
        guard let converter else { throw UsageError(message: "this build of provision has no compose translator") }
        func read(_ path: String) throws -> (path: String, text: String) {
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
            guard let data = FileManager.default.contents(atPath: absolute) else { throw UsageError(message: "cannot read \(path)") }
            return (absolute, String(decoding: data, as: UTF8.self))
        }
        let files = try options.positionals.dropFirst().map(read)
        let folder = URL(fileURLWithPath: files[0].path).deletingLastPathComponent().path
        var envFiles = try options.all("--env-file").map(read)
        if options.all("--env-file").isEmpty, let dotenv = try? read(folder + "/.env") { envFiles = [dotenv] }
        let outputs: [ComposeConversionOutput]
        do {
            outputs = try converter(ComposeConversionRequest(files: files, envFiles: envFiles, projectName: options.value("--project-name"),
                                                             profiles: options.all("--profile"), userScope: options.flag("--user")))
        } catch {
            // The translator's errors name the file, line, service and key: they are the message.
            throw UsageError(message: "\(error)")
        }
        guard let directory = options.value("--output") else {
            for (index, output) in outputs.enumerated() {
                if index > 0 { print("") }
                print("# \(output.file)")
                print(output.secret ? "# (an env file: values are written with -o DIR only, mode 0600)" : output.text, terminator: output.secret ? "\n" : "")
            }
            return 0
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for output in outputs {
            let path = directory + "/" + output.file
            // Whole files only, an env file never readable by others: a temporary file of the final mode, renamed.
            let temporary = directory + "/.\(output.file).\(ProcessInfo.processInfo.processIdentifier).tmp"
            guard FileManager.default.createFile(atPath: temporary, contents: Data(output.text.utf8),
                                                 attributes: [.posixPermissions: output.secret ? 0o600 : 0o644]),
                  rename(temporary, path) == 0 else {
                try? FileManager.default.removeItem(atPath: temporary)
                throw UsageError(message: "cannot write \(path)")
            }
            print(path)
        }
        return 0
    }
}
