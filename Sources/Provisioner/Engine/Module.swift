/// A resource module (DESIGN §3): it declares its arguments once, says what it
/// needs to observe, and from the observation computes a plan. It never runs
/// anything itself, so check mode is honest and each module is testable as
/// "observed state in, changes out".
public protocol Module: Sendable {
    /// The canonical name (`file`); `ansible.builtin.file` resolves to it too.
    static var name: String { get }
    /// Other names that select this module (`systemd` for `service`).
    static var aliases: [String] { get }
    /// One line for `--help`.
    static var summary: String { get }
    /// The single declaration behind validation, `--help` and "did you mean".
    static var arguments: [ArgumentSpec] { get }
    /// The argument that receives a free-form string (`command: echo hi` -> `cmd`), if any.
    static var freeFormArgument: String? { get }
    /// False for modules whose effect cannot be predicted (`command`): check mode skips them.
    static var supportsCheckMode: Bool { get }
    /// True for modules whose result holds `ansible_facts` (`getent`): the names they define are
    /// known only at run time.
    static var returnsFacts: Bool { get }
    /// True for modules that never depend on running services (they write files or prepare images):
    /// queued unit restarts may wait past their tasks, so a play makes one daemon-reload. Before any
    /// other task the engine carries the queued restarts out.
    static var defersUnitRestarts: Bool { get }

    /// Builds the module from arguments already checked against `arguments`;
    /// throws `ModuleError` for combinations the declaration cannot express.
    init(_ arguments: ModuleArguments) throws

    /// What to read from the host before planning.
    func observations(_ context: ModuleContext) -> [Observation]

    /// The changes that would converge the host, from what was observed.
    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan

    /// Controller files the plan will read (`src`), checked before anything changes.
    var controllerFiles: [(path: String, kind: ControllerFileKind)] { get }
}

extension Module {
    public static var aliases: [String] { [] }
    public static var freeFormArgument: String? { nil }
    public static var supportsCheckMode: Bool { true }
    public static var returnsFacts: Bool { false }
    public static var defersUnitRestarts: Bool { false }
    public var controllerFiles: [(path: String, kind: ControllerFileKind)] { [] }
}

/// What a module may know besides its arguments and observations.
public struct ModuleContext: Sendable {
    /// Gathered facts (`ansible_facts` names): `os_family`, `service_mgr`, `pkg_mgr`, ...
    public var facts: ValueDict
    public var checkMode: Bool
    /// Reads a file on the controller (`copy: src`, `template: src`), resolved against the
    /// play's and role's `files/` or `templates/` folders. Throws `ModuleError` when missing.
    public var readControllerFile: @Sendable (_ path: String, _ kind: ControllerFileKind) throws -> [UInt8]
    /// Renders template text with the task's variables (`template` module).
    public var renderTemplate: @Sendable (_ text: String, _ name: String) throws -> String
    /// Where a controller file is when the host is the controller itself (nil otherwise): a module
    /// that would copy a large file (an image archive) uses it in place instead.
    public var locateControllerFileOnHost: (@Sendable (_ path: String, _ kind: ControllerFileKind) throws -> String)?
    /// `apply --bundle`: no network is reached (a package index is not refreshed).
    public var offline = false
    /// `apply --bundle`: the bundle's package repository; packages come from it only (no mirror is reached).
    public var offlinePackages: OfflinePackages?

    public init(facts: ValueDict = ValueDict(), checkMode: Bool = false,
                readControllerFile: @escaping @Sendable (String, ControllerFileKind) throws -> [UInt8] = { path, _ in
                    throw ModuleError("no controller files in this context: \(path)")
                },
                renderTemplate: @escaping @Sendable (String, String) throws -> String = { text, _ in text },
                locateControllerFileOnHost: (@Sendable (String, ControllerFileKind) throws -> String)? = nil) {
        self.facts = facts
        self.checkMode = checkMode
        self.readControllerFile = readControllerFile
        self.renderTemplate = renderTemplate
        self.locateControllerFileOnHost = locateControllerFileOnHost
    }
}

public enum ControllerFileKind: Sendable { case file, template }

/// A module's own error: the engine adds the task's file:line.
public struct ModuleError: Error, Equatable, CustomStringConvertible {
    public var message: String
    /// The argument it is about, when there is one (the engine points at its line).
    public var argument: String?

    public init(_ message: String, argument: String? = nil) {
        self.message = message
        self.argument = argument
    }

    public var description: String { message }
}
