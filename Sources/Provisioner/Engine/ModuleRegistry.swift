/// Name lookup for modules and the engine's own actions, accepting Ansible's
/// fully-qualified names (`ansible.builtin.copy`) so existing plays run unchanged.
public struct ModuleRegistry: Sendable {
    public private(set) var types: [String: any Module.Type] = [:]
    private var canonical: [String: String] = [:]

    public init(_ modules: [any Module.Type]) {
        for type in modules {
            types[type.name] = type
            for name in [type.name] + type.aliases { canonical[name] = type.name }
        }
        for action in EngineAction.allCases { canonical[action.rawValue] = action.rawValue }
    }

    static let prefixes = ["ansible.builtin.", "ansible.legacy.", "ansible.posix.", "community.general.", "provision."]

    /// The canonical name for what a task wrote, nil when nothing answers to it.
    public func resolve(_ written: String) -> String? {
        if let name = canonical[written] { return name }
        for prefix in ModuleRegistry.prefixes where written.hasPrefix(prefix) {
            if let name = canonical[String(written.dropFirst(prefix.count))] { return name }
        }
        return nil
    }

    public var names: [String] { Array(canonical.keys).sorted() }
}

/// Tasks the engine carries out itself, without touching the host.
public enum EngineAction: String, CaseIterable, Sendable {
    case debug, setFact = "set_fact", assert, fail, meta
    case includeVars = "include_vars"
    case addHost = "add_host", groupBy = "group_by", setup, pause, asyncStatus = "async_status", reboot

    /// Ansible runs these once for the whole batch (bypass_host_loop), on its first host.
    var runsOncePerBatch: Bool { self == .addHost || self == .pause }
}
