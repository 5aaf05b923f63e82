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
    public var common: TaskCommon
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
    public var environment: Value?
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
    public var delegateTo: Value?
    public var runOnce: Bool

    public var displayName: String {
        if let name { return name }
        return moduleAsWritten
    }
}
