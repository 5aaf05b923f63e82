import Foundation

/// What every host run of one `provision` invocation shares.
final class EngineContext: @unchecked Sendable {
    let options: RunOptions
    let registry: ModuleRegistry
    let loader: PlaybookLoader
    let reporter: RunReporter
    let config: AnsibleConfig
    /// The runner: other hosts' variables and connections (delegate_to), refresh_inventory.
    weak var hosts: HostDirectory?
    /// The inventory as add_host and group_by change it while the playbook runs.
    var live: LiveInventory?

    init(options: RunOptions, registry: ModuleRegistry, loader: PlaybookLoader, reporter: RunReporter, config: AnsibleConfig) {
        self.options = options
        self.config = config
        self.registry = registry
        self.loader = loader
        // Every report leaves the engine through the censor: a no_log task's words reach no output.
        self.reporter = CensoringReporter(wrapping: reporter)
    }

    /// `--tags` / `--skip-tags` as Ansible reads them (`always` and `never` included).
    func tagsSelect(_ tags: [String]) -> Bool {
        let set = Set(tags)
        if !options.skipTags.isDisjoint(with: set) { return false }
        if options.tags.isEmpty || options.tags.contains("all") { return !set.contains("never") }
        if set.contains("always") { return true }
        if options.tags.contains("tagged") && !set.isEmpty { return true }
        if options.tags.contains("untagged") && set.isEmpty { return true }
        return !options.tags.isDisjoint(with: set)
    }

    /// Renders a task's arguments and checks them against the module's declaration.
    /// `k=v` words are split before rendering, as Ansible splits them when it loads a task:
    /// what a template renders to (a host's output among it) never becomes an argument.
    func validatedArguments(_ task: Task, type: any Module.Type, templar: Templar) throws -> ModuleArguments {
        let names = type.arguments.map(\.name)
        var dict: ValueDict
        switch task.arguments.peeled {
        case .null: dict = ValueDict()
        case .dict:
            let members = task.arguments.members ?? ValueDict()
            dict = try templar.render(.dict(try KeyValueArguments.expand(members, freeForm: type.freeFormArgument, names: names))).dict ?? ValueDict()
        case .string(let s):
            do {
                var words = try KeyValueArguments.parse(s, freeForm: type.freeFormArgument, names: names)
                if task.arguments.isUnsafe { words = ValueDict(words.map { ($0.key, Value.untrusted($0.value)) }) }
                dict = try templar.render(.dict(words)).dict ?? ValueDict()
            } catch let error as ArgumentError {
                // `module: "{{ arguments }}"`: a template that gives the whole mapping.
                guard !task.arguments.isUnsafe, case .dict(let d) = try templar.render(s) else { throw error }
                dict = d
            }
        default:
            throw ModuleError("the arguments of '\(task.moduleAsWritten)' must be a mapping")
        }
        if !task.common.moduleDefaults.isEmpty, let defaults = try templar.render(.dict(ModuleDefaults.defaults(for: task, resolve: registry.resolve))).dict {
            for (key, value) in defaults where dict[key] == nil { dict[key] = value }
        }
        // `default(omit)` leaves the argument out, as in Ansible.
        for (key, value) in dict where value == .string(Templar.omit) { dict[key] = nil }
        return try ModuleArguments.validate(dict, against: type.arguments, module: task.moduleAsWritten)
    }

    /// `onController`: the task's host is this machine (its files are the host's).
    func moduleContext(task: Task, templar: Templar, facts: ValueDict, checkMode: Bool, playDirectory: String,
                       onController: Bool) -> ModuleContext {
        let common = task.common
        let locate: @Sendable (String, ControllerFileKind) throws -> String = { path, kind in
            try EngineContext.locateControllerFile(path, kind: kind, common: common, playDirectory: playDirectory)
        }
        var context = ModuleContext(
            facts: facts, checkMode: checkMode,
            readControllerFile: { path, kind in
                try EngineContext.readControllerFile(path, kind: kind, common: common, playDirectory: playDirectory)
            },
            renderTemplate: { text, name in try templar.renderTemplate(text, name: name) },
            locateControllerFileOnHost: onController ? locate : nil)
        context.offline = options.offline
        if var packages = options.offlinePackages {
            // The repository is a folder of this machine: a host reached over ssh (or a delegate) does not have it.
            packages.onThisMachine = onController
            context.offlinePackages = packages
        }
        return context
    }

    /// Ansible's search path for `src`: the role's files/ or templates/, then beside
    /// the task file, then beside the playbook. Returns the first regular file found.
    static func locateControllerFile(_ path: String, kind: ControllerFileKind, common: TaskCommon, playDirectory: String) throws -> String {
        let folder = kind == .template ? "templates" : "files"
        var candidates: [String] = []
        if path.hasPrefix("/") {
            candidates = [path]
        } else {
            if let role = common.role { candidates += ["\(role.path)/\(folder)/\(path)", "\(role.path)/\(path)"] }
            candidates += ["\(common.directory)/\(folder)/\(path)", "\(common.directory)/\(path)",
                           "\(playDirectory)/\(folder)/\(path)", "\(playDirectory)/\(path)"]
        }
        for candidate in candidates {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDir), !isDir.boolValue,
               FileManager.default.isReadableFile(atPath: candidate) {
                return candidate
            }
        }
        throw ModuleError("could not find '\(path)' (looked in: \(candidates.joined(separator: ", ")))", argument: "src")
    }

    static func readControllerFile(_ path: String, kind: ControllerFileKind, common: TaskCommon, playDirectory: String) throws -> [UInt8] {
        let found = try locateControllerFile(path, kind: kind, common: common, playDirectory: playDirectory)
        guard let data = FileManager.default.contents(atPath: found) else {
            throw ModuleError("could not read '\(found)'", argument: "src")
        }
        let bytes = [UInt8](data)
        // A template is text: one that is not UTF-8 is refused, never rendered with U+FFFD in it.
        if kind == .template, case .failure(let failure) = UTF8Text.decode(bytes) {
            throw ModuleError("template \(found): \(failure); a template must be UTF-8 text"
                + " (to put a file's bytes on the host as they are, use copy with src)", argument: "src")
        }
        return bytes
    }

    /// A vars file: a YAML mapping of names to values.
    func loadVarsFile(_ path: String, at location: SourceLocation) throws -> ValueDict {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ParseError("vars file \(path) not found", at: location)
        }
        let stream = try YAMLStream([UInt8](data), file: path)
        guard let root = stream.documents.first, !root.isNull else { return ValueDict() }
        guard case .dict(let vars) = Value(root) else {
            throw ParseError("a vars file must be a mapping of names to values", at: stream.location(of: root))
        }
        return vars
    }
}

/// A problem found before any host was touched: exit code 1.
public struct PreflightError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
