/// A host as the inventory files declare it.
public struct InventoryHost: Hashable, Sendable {
    public let name: String
    /// Variables set on the host in inventory files (host lines, YAML host entries, `host:port`).
    public internal(set) var variables: ValueDict
    /// Groups that list the host directly, in the order they did (ancestors are not repeated here).
    public internal(set) var groups: [String]
    /// Where the host was first declared.
    public internal(set) var location: SourceLocation

    init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
        variables = ValueDict()
        groups = []
    }
}

/// A group: its direct hosts, child groups and variables.
public struct InventoryGroup: Hashable, Sendable {
    public let name: String
    /// Hosts listed directly in this group, in order.
    public internal(set) var hosts: [String]
    public internal(set) var children: [String]
    public internal(set) var parents: [String]
    public internal(set) var variables: ValueDict
    /// `ansible_group_priority` (default 1): orders groups of equal depth, higher wins.
    public internal(set) var priority: Int
    /// Length of the longest path from `all` (0 for `all`): deeper groups' variables win.
    public internal(set) var depth: Int
    /// Where the group was first declared; nil for the built-in `all` and `ungrouped`.
    public internal(set) var location: SourceLocation?

    init(name: String, location: SourceLocation?) {
        self.name = name
        self.location = location
        hosts = []
        children = []
        parents = []
        variables = ValueDict()
        priority = 1
        depth = 0
    }
}

/// Something Ansible accepts but warns about (an unknown key in a YAML group, a vars
/// file that matches nothing); the caller decides how to show it.
public struct InventoryWarning: Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public var location: SourceLocation?

    public init(_ message: String, at location: SourceLocation? = nil) {
        self.message = message
        self.location = location
    }

    public var description: String { location.map { "\($0): \(message)" } ?? message }
}

/// Hosts, groups and their variables from one or more inventory sources, plus the
/// `group_vars/` and `host_vars/` beside them and beside the playbook.
public struct Inventory: Sendable {
    /// Host names in the order they were first declared.
    public internal(set) var hostNames: [String] = []
    /// Group names in the order they were created; `all` and `ungrouped` come first.
    public internal(set) var groupNames: [String] = []
    public internal(set) var warnings: [InventoryWarning] = []
    /// The inventory files read, in order.
    public internal(set) var sourceFiles: [String] = []

    var hostTable: [String: InventoryHost] = [:]
    var groupTable: [String: InventoryGroup] = [:]
    /// The inventory file that first declared each host (Ansible's `inventory_file`).
    var hostSource: [String: String] = [:]
    /// `group_vars/` and `host_vars/` beside the inventory sources, then beside the playbook.
    var inventoryVars: [VarsDirectory] = []
    var playbookVars: [VarsDirectory] = []
    /// Each host's groups with their ancestors, `all` left out, in variable precedence order.
    var precedenceGroups: [String: [String]] = [:]
    /// The `groups` magic variable, computed once.
    var groupsVariable: ValueDict = ValueDict()

    /// An inventory with only the built-in groups: `all` and its child `ungrouped`.
    public init() {
        groupNames = ["all", "ungrouped"]
        groupTable["all"] = InventoryGroup(name: "all", location: nil)
        var ungrouped = InventoryGroup(name: "ungrouped", location: nil)
        ungrouped.parents = ["all"]
        groupTable["ungrouped"] = ungrouped
        groupTable["all"]?.children = ["ungrouped"]
        finish()
    }

    public var hosts: [InventoryHost] { hostNames.compactMap { hostTable[$0] } }
    public var groups: [InventoryGroup] { groupNames.compactMap { groupTable[$0] } }
    public func host(named name: String) -> InventoryHost? { hostTable[name] }
    public func group(named name: String) -> InventoryGroup? { groupTable[name] }

    /// Names Ansible resolves to an implicit local host when the inventory does not declare them.
    public static let localhostNames: Set<String> = ["localhost", "127.0.0.1", "::1"]

    /// True for a localhost name the inventory does not declare: Ansible's implicit localhost,
    /// reached with `ansible_connection: local`.
    public func isImplicitLocalhost(_ name: String) -> Bool {
        hostTable[name] == nil && Inventory.localhostNames.contains(name)
    }
}

extension String {
    /// Python's `<` on strings: code point order, which Ansible's sorts use.
    func precedesInCodePoints(_ other: String) -> Bool {
        unicodeScalars.lexicographicallyPrecedes(other.unicodeScalars)
    }
}
