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
    /// `vars_files` entries, each a list of candidates: the first that exists is read.
    public var varsFiles: [[String]]
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
    /// Set when the block holds a role's tasks.
    public var role: RoleRun? = nil
}

/// What the engine needs of a role's block: whether it runs once, and its handlers.
public struct RoleRun: Sendable {
    /// Ansible runs a role once per host and play for the same parameters: this key; nil when
    /// duplicates are allowed (import_role/include_role, `allow_duplicates: true`).
    public var key: String?
    public var handlers: [Task]
    /// The handlers file, so a role loaded twice adds its handlers once.
    public var handlersFile: String
}

public struct Include: Sendable {
    public var file: String
    public var common: TaskCommon
    public var loop: Value?
    public var loopControl: LoopControl
    /// The lookup of a `with_X` loop (`items` for with_items); nil for `loop:`.
    public var loopWith: String? = nil
    /// What the included tasks inherit: the keywords of the blocks around the include, its vars and
    /// `apply:`; not the include's own `when`, `tags` or loop, which decide the include itself.
    public var tasksCommon: TaskCommon
    /// `include_role`: the role and its options; nil for `include_tasks`.
    public var role: RoleInclude? = nil
    /// What a static name (no template) holds, loaded ahead so `validate` can walk it.
    public var preloaded: StaticInclude? = nil

    /// Whether the include may not happen (`when`, a loop): recursion through it can end.
    public var isConditional: Bool { !common.when.isEmpty || loop != nil }
}

/// What an `include_tasks`/`include_role` with a static name was found to hold at load time.
public enum StaticInclude: Sendable {
    case loaded([TaskItem])
    /// The file or role could not be loaded (reported when the include runs, as Ansible does).
    case failed(ParseError)
    /// The name is already being included further up: it is loaded again only at run time.
    case recursive
}

/// `include_role:` arguments; the name and files may be templates, rendered when the include runs.
public struct RoleInclude: Sendable {
    public var name: String
    public var files: RoleFiles
    /// Whether the role's vars and defaults stay visible to the tasks after the include.
    public var isPublic: Bool
    public var allowDuplicates: Bool
    public var location: SourceLocation
    /// The playbook's folder, where `roles/` is looked for.
    public var directory: String
}

/// What to read from a role's folders (`tasks_from` and friends): file names without `.yml`.
public struct RoleFiles: Sendable, Hashable {
    public var tasks = "main"
    public var vars = "main"
    public var defaults = "main"
    public var handlers = "main"

    var all: [String] { [tasks, vars, defaults, handlers] }
}

/// One step of the import/include chain that led to an item: the statement and the file (or role) it named.
public struct IncludeStep: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case importTasks, importPlaybook, role
        /// `include_tasks`/`include_role`; conditional when it has `when` or a loop, so recursion may end.
        case include(conditional: Bool)
    }
    public var location: SourceLocation
    public var file: String
    public var kind: Kind

    public var description: String { "\(location) -> \(file)" }
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
    /// The imports, includes and role dependencies that led here, outermost first.
    public var includes: [IncludeStep] = []

    public init(location: SourceLocation, directory: String, role: RoleContext? = nil) {
        self.location = location
        self.directory = directory
        self.role = role
    }
}

public struct RoleContext: Sendable, Hashable {
    public var name: String
    public var path: String
    /// The role's own defaults and vars: inside its tasks they win over other roles'.
    public var defaults = ValueDict()
    public var vars = ValueDict()
}

public struct LoopControl: Sendable {
    public var loopVar = "item"
    public var indexVar: String?
    public var label: Value?
    /// `extended`: `ansible_loop` with index, first, last, ...; `extended_allitems` keeps `allitems` in it.
    public var extended: Value?
    public var extendedAllItems: Value?
    /// Seconds to wait between items.
    public var pause: Value?
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
    /// The lookup of a `with_X` loop (`items` for with_items); nil for `loop:`.
    public var loopWith: String? = nil
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
    /// `async:` seconds and `poll:`; nil for an ordinary task.
    public var asynchronous: AsyncSettings? = nil

    public var displayName: String {
        if let name { return name }
        return moduleAsWritten
    }
}

/// `async: SECONDS` and `poll: SECONDS` as written (templates rendered when the task runs).
public struct AsyncSettings: Sendable {
    public var seconds: Value
    public var poll: Value?
}
