import Foundation

/// `add_host` and `group_by`: inventory changes made while the playbook runs. Later plays choose
/// their hosts from the changed inventory, and `groups`/`group_names` follow at once, as in Ansible.
final class LiveInventory: @unchecked Sendable {
    private let lock = NSLock()
    private var inventory: Inventory
    /// Bumped on every change, so host runs know to refresh `groups`.
    private var changes = 0

    init(_ inventory: Inventory) { self.inventory = inventory }

    var current: Inventory { lock.withLock { inventory } }
    var version: Int { lock.withLock { changes } }

    /// `meta: refresh_inventory`: the sources read again (hosts added by add_host are gone, as in Ansible).
    func replace(with fresh: Inventory) {
        lock.withLock {
            inventory = fresh
            changes += 1
        }
    }

    /// Adds (or updates) a host: its groups, its variables (`host:port` sets `ansible_port`).
    func addHost(_ name: String, port: Int?, groups: [String], variables: ValueDict, at location: SourceLocation) throws {
        try change { inventory in
            inventory.addHost(name, to: "ungrouped", port: port, at: location)
            for group in groups {
                inventory.addGroup(group, at: location)
                inventory.addHost(name, to: group, port: nil, at: location)
            }
            for (key, value) in variables { inventory.setHostVariable(key, value, on: name) }
        }
    }

    /// Puts a host into `group`, made a child of each of `parents`.
    func group(_ host: String, into group: String, parents: [String], at location: SourceLocation) throws {
        try change { inventory in
            inventory.addGroup(group, at: location)
            if inventory.host(named: host) == nil { inventory.addHost(host, to: "ungrouped", port: nil, at: location) }
            inventory.addHost(host, to: group, port: nil, at: location)
            for parent in parents where parent != "all" {
                inventory.addGroup(parent, at: location)
                try inventory.addChild(group, to: parent, at: location)
            }
        }
    }

    private func change(_ body: (inout Inventory) throws -> Void) throws {
        try lock.withLock {
            var changed = inventory
            try body(&changed)
            changed.finish()
            inventory = changed
            changes += 1
        }
    }
}

extension HostRun {
    /// The arguments of an engine action as a mapping: rendered, `k=v` strings read, names checked.
    func actionArguments(_ task: Task, _ templar: Templar) throws -> ValueDict {
        guard let action = EngineAction(rawValue: task.module) else { return ValueDict() }
        return try EngineActionArguments.parse(try templar.render(task.arguments), action)
    }

    /// `add_host: {name, groups, VAR: value...}`: the host joins the inventory for the plays after this one.
    func addHost(_ task: Task, _ templar: Templar) throws -> ItemOutcome {
        var args = try actionArguments(task, templar)
        guard let live = engine.live else { throw ModuleError("add_host needs a playbook run") }
        let nameKey = ["name", "host", "hostname"].first { args[$0] != nil }
        guard let nameKey, let written = args[nameKey]?.pythonText, !written.isEmpty else {
            throw ModuleError("add_host needs 'name' (the new host's name)", argument: "name")
        }
        args[nameKey] = nil
        var groups: [String] = []
        for key in ["groups", "groupname", "group"] {
            guard let value = args.removeValue(key) else { continue }
            groups += value.list?.map(\.pythonText) ?? value.pythonText.split(separator: ",").map { PythonString.strip(String($0)) }
        }
        let (name, port) = HostRun.splitPort(written)
        try live.addHost(name, port: port, groups: groups, variables: args, at: task.common.location)
        var result = ValueDict()
        result["host_name"] = .string(name)
        result["groups"] = .list(groups.map(Value.string))
        result["host_vars"] = .dict(args)
        return ItemOutcome(status: .changed, result: ["add_host": .dict(result), "changed": true])
    }

    /// `name:port` as Ansible splits it (an IPv6 address without brackets keeps its colons).
    static func splitPort(_ name: String) -> (String, Int?) {
        if name.hasPrefix("["), let close = name.firstIndex(of: "]") {
            let host = String(name[name.index(after: name.startIndex)..<close])
            let rest = name[name.index(after: close)...]
            return (host, rest.hasPrefix(":") ? Int(rest.dropFirst()) : nil)
        }
        let parts = name.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2, let port = Int(parts[1]) { return (String(parts[0]), port) }
        return (name, nil)
    }

    /// `group_by: {key, parents}`: this host joins the group `key`.
    func groupBy(_ task: Task, _ templar: Templar) throws -> ItemOutcome {
        let args = try actionArguments(task, templar)
        guard let live = engine.live else { throw ModuleError("group_by needs a playbook run") }
        guard let key = args["key"]?.pythonText, !key.isEmpty else { throw ModuleError("group_by needs 'key' (the group's name)", argument: "key") }
        let group = key.replacingOccurrences(of: " ", with: "-")
        let parents = args["parents"].map { $0.list?.map(\.pythonText) ?? [$0.pythonText] } ?? ["all"]
        try live.group(host, into: group, parents: parents, at: task.common.location)
        return ItemOutcome(status: .changed, result: ["add_group": .string(group), "parent_groups": .list(parents.map(Value.string)), "changed": true])
    }

    /// `groups` and `group_names` as the inventory now has them, after add_host/group_by.
    func refreshInventoryVariables() {
        guard let live = engine.live, live.version != inventoryVersion else { return }
        inventoryVersion = live.version
        let magic = live.current.magicVariables(for: host)
        for key in ["groups", "group_names"] { base[key] = magic[key] }
    }

    /// A task Ansible runs once for the whole batch (bypass_host_loop: `add_host`, `pause`): the batch
    /// meets there, its first host runs it, and the others go on once it is done (so they see its
    /// effect), without a trace of it, as in Ansible.
    func runOncePerBatch(_ task: Task, handler: Bool) {
        let key = arrivalKey(task)
        if coordinator.sharedValue(for: key, wait: false) != nil { return }
        if coordinator.meet(host, at: key) {
            _ = execute(task, handler: handler)
            coordinator.publish(true, for: key)
        } else {
            _ = coordinator.sharedValue(for: key, wait: true)
        }
    }
}

extension ValueDict {
    mutating func removeValue(_ key: String) -> Value? {
        let value = self[key]
        self[key] = nil
        return value
    }
}
