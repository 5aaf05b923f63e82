/// A playbook as Ansible users write it, with every item's source location.
public struct Playbook: Sendable {
    public var file: String
    public var plays: [Play]
}

public struct Play: Sendable {
    public var name: String
    public var hosts: String
    public var become: Bool?
    public var becomeUser: String?
    public var vars: ValueDict
    public var varsFiles: [String]
    public var gatherFacts: Bool
    public var serial: Value?
    public var maxFailPercentage: Double?
    public var tags: [String]
    /// How the play reaches its hosts (`connection`, `remote_user`, `port`): defaults under each
    /// host's own `ansible_connection`/`ansible_user`/`ansible_port`, as in Ansible.
    public var connection: String?
    public var remoteUser: String?
    public var port: Int?
    public var forceHandlers = false
    /// `order:` of the hosts: inventory (default), reverse_inventory, sorted, reverse_sorted, shuffle.
    public var order = "inventory"
    /// `vars_prompt` names: provision never prompts, so each must come with `-e`.
    public var prompts: [(name: String, location: SourceLocation)] = []
    /// Play-level task keywords (check_mode, environment, ...), inherited by every task.
    public var common: TaskCommon
    /// pre_tasks, role tasks, tasks, post_tasks: in the order they run.
    public var tasks: [TaskItem]
    public var handlers: [Task]
    /// Role defaults (lowest precedence) and role vars, merged in role order.
    public var roleDefaults: ValueDict
    public var roleVars: ValueDict
    public var location: SourceLocation
    /// The folder that holds the playbook: relative paths resolve against it.
    public var directory: String
}

/// What a task list holds.
public indirect enum TaskItem: Sendable {
    case task(Task)
    case block(Block)
    /// `include_tasks`: loaded when reached, once per loop item.
    case include(Include)
}

public struct Block: Sendable {
    public var name: String?
    public var tasks: [TaskItem]
    public var rescue: [TaskItem]
    public var always: [TaskItem]
    public var common: TaskCommon
}

public struct Include: Sendable {
    public var file: String
    /// The include's own keywords (its `when` and `tags` decide whether it runs).
    public var common: TaskCommon
    /// What the tasks it brings in inherit: the enclosing keywords and the include's `vars`.
    public var inner: TaskCommon
    public var loop: Value?
    public var loopControl: LoopControl
}

/// Keywords shared by tasks, blocks and includes (inherited by what they contain).
public struct TaskCommon: Sendable {
    public var when: [Value] = []
    public var tags: [String] = []
    public var vars = ValueDict()
    public var become: Bool?
    public var becomeUser: String?
    public var ignoreErrors: Value?
    public var checkMode: Value?
    public var noLog: Value?
    /// `environment:` of the play, blocks and task, outermost first (inner names win).
    public var environment: [Value] = []
    /// `module_defaults:` of the play, blocks and task, outermost first.
    public var moduleDefaults: [Value] = []
    public var becomeMethod: String?
    public var delegateTo: Value?
    public var runOnce: Value?
    public var anyErrorsFatal: Bool?
    public var ignoreUnreachable: Value?
    public var throttle: Value?
    public var diff: Value?
    /// `connection`, `remote_user`, `port` set on a block or task.
    public var connection: String?
    public var remoteUser: String?
    public var port: Int?
    /// Handlers a block notifies for each of its tasks (a task's own notify replaces them).
    public var notify: [String]?
    /// `collections:` searched for short module names, innermost first.
    public var collections: [String] = []
    public var location: SourceLocation
    /// The role the item comes from, for `files/` and `templates/` lookups.
    public var role: RoleContext?
    /// The folder of the file the item was written in.
    public var directory: String

    public init(location: SourceLocation, directory: String, role: RoleContext? = nil) {
        self.location = location
        self.directory = directory
        self.role = role
    }
}

public struct RoleContext: Sendable, Hashable {
    public var name: String
    public var path: String
}

public struct LoopControl: Sendable {
    public var loopVar = "item"
    public var indexVar: String?
    public var label: Value?
    /// Seconds to wait between items.
    public var pause: Value?
    /// `ansible_loop` (index, first, last, ...) for each item.
    public var extended: Value?
    /// Whether `ansible_loop.allitems` is given when extended (default true).
    public var extendedAllItems: Value?
}

public struct Task: Sendable {
    public var name: String?
    /// Canonical module name (`file`), or an engine action (`debug`, `set_fact`, `meta`, ...).
    public var module: String
    /// What the user wrote (`ansible.builtin.file`), for messages.
    public var moduleAsWritten: String
    /// The arguments: a mapping, or a free-form string (`command: echo hi`).
    public var arguments: Value
    /// Where each argument was written.
    public var argumentLocations: [String: SourceLocation]
    public var moduleLocation: SourceLocation
    public var common: TaskCommon
    public var loop: Value?
    public var loopControl: LoopControl
    public var notify: [String]
    public var notifyLocation: SourceLocation?
    /// Handlers: the topics they answer to besides their name.
    public var listen: [String]
    public var register: String?
    public var changedWhen: [Value]?
    public var failedWhen: [Value]?
    /// `until` conditions (nil: none), `retries` and `delay` (templates allowed).
    public var until: [Value]?
    public var retries: Value?
    public var delay: Value?
    /// A task the loader added (the handler flush after each section of a play): never reported.
    public var implicit = false

    public var displayName: String {
        if let name { return name }
        return moduleAsWritten
    }
}

extension LoopControl {
    /// `ansible_loop` for item `index` of `items` (loop_control.extended), as Ansible fills it.
    static func extendedVariable(_ index: Int, of items: [Value], allItems: Bool) -> Value {
        var loop = ValueDict()
        if allItems { loop["allitems"] = .list(items) }
        loop["index"] = .int(index + 1)
        loop["index0"] = .int(index)
        loop["first"] = .bool(index == 0)
        loop["last"] = .bool(index == items.count - 1)
        loop["length"] = .int(items.count)
        loop["revindex"] = .int(items.count - index)
        loop["revindex0"] = .int(items.count - index - 1)
        if index > 0 { loop["previtem"] = items[index - 1] }
        if index < items.count - 1 { loop["nextitem"] = items[index + 1] }
        return .dict(loop)
    }
}
