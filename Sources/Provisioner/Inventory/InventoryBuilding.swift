/// The operations the readers build an inventory with, mirroring Ansible's
/// InventoryData (add_group, add_host, add_child, set_variable, reconcile) so
/// several sources merge the way they do in Ansible.
extension Inventory {
    mutating func addGroup(_ name: String, at location: SourceLocation) {
        guard groupTable[name] == nil else { return }
        groupTable[name] = InventoryGroup(name: name, location: location)
        groupNames.append(name)
    }

    /// Adds the host if new (with `port` as `ansible_port`, as Ansible does only then) and puts it in `group`.
    mutating func addHost(_ name: String, to group: String, port: Int?, at location: SourceLocation) {
        if hostTable[name] == nil {
            var host = InventoryHost(name: name, location: location)
            if let port { host.variables["ansible_port"] = .int(port) }
            hostTable[name] = host
            hostNames.append(name)
            hostSource[name] = location.file
        }
        guard hostTable[name]?.groups.contains(group) == false else { return }
        hostTable[name]?.groups.append(group)
        groupTable[group]?.hosts.append(name)
    }

    /// Makes `child` a child group of `parent`; refuses what would make a group its own ancestor.
    mutating func addChild(_ child: String, to parent: String, at location: SourceLocation) throws {
        guard let childGroup = groupTable[child], !childGroup.parents.contains(parent) else { return }
        if child == parent {
            throw ParseError("group '\(child)' cannot be a child of itself", at: location)
        }
        if child == "all" {
            throw ParseError("'all' holds every group and cannot be a child of '\(parent)'", at: location)
        }
        if let path = ancestorPath(from: parent, to: child) {
            let loop = (path.reversed() + [child]).joined(separator: " -> ")
            throw ParseError("making '\(child)' a child of '\(parent)' creates a loop (\(loop)); a group cannot be its own ancestor", at: location)
        }
        groupTable[parent]?.children.append(child)
        groupTable[child]?.parents.append(parent)
    }

    /// Groups from `group` up through its parents to `ancestor`, when `ancestor` is one.
    private func ancestorPath(from group: String, to ancestor: String) -> [String]? {
        var parentOf: [String: String] = [:]
        var queue = [group]
        var index = 0
        while index < queue.count {
            let current = queue[index]
            index += 1
            if current == ancestor {
                var path = [current]
                while let step = parentOf[path[path.count - 1]] { path.append(step) }
                return path.reversed()
            }
            for parent in groupTable[current]?.parents ?? [] where parentOf[parent] == nil && parent != group {
                parentOf[parent] = current
                queue.append(parent)
            }
        }
        return nil
    }

    /// Sets a group variable; `ansible_group_priority` sets the group's priority instead, as in Ansible.
    mutating func setGroupVariable(_ key: String, _ value: Value, on group: String, at location: SourceLocation) throws {
        if key == "ansible_group_priority" {
            let priority: Int?
            switch value {
            case .int(let n): priority = n
            case .string(let text): priority = Int(text.pythonStripped())
            case .float(let d) where d.rounded(.towardZero) == d && abs(d) < 1e15: priority = Int(d)
            default: priority = nil
            }
            guard let priority else {
                throw ParseError("ansible_group_priority must be an integer, found \(value.typeName) \(value.json)", at: location)
            }
            groupTable[group]?.priority = priority
            return
        }
        groupTable[group]?.variables[key] = value
    }

    mutating func setHostVariable(_ key: String, _ value: Value, on host: String) {
        hostTable[host]?.variables[key] = value
    }

    /// Ansible's reconcile step plus what variable lookups need: parentless groups join `all`,
    /// hosts in no group join `ungrouped` (and leave it once in another), depths and the
    /// per-host group order are computed.
    mutating func finish() {
        for name in groupNames where name != "all" && groupTable[name]?.parents.isEmpty == true {
            groupTable["all"]?.children.append(name)
            groupTable[name]?.parents.append("all")
        }
        for name in hostNames {
            guard let host = hostTable[name] else { continue }
            let others = host.groups.filter { $0 != "all" && $0 != "ungrouped" }
            if host.groups.contains("ungrouped"), !others.isEmpty {
                hostTable[name]?.groups.removeAll { $0 == "ungrouped" }
                groupTable["ungrouped"]?.hosts.removeAll { $0 == name }
            } else if others.isEmpty, !host.groups.contains("ungrouped") {
                hostTable[name]?.groups.append("ungrouped")
                groupTable["ungrouped"]?.hosts.append(name)
            }
            if groupTable[name] != nil {
                warnings.append(InventoryWarning("'\(name)' is both a group and a host; patterns naming it select the host", at: host.location))
            }
        }
        computeDepths()
        computePrecedenceGroups()
        computeGroupsVariable()
    }

    /// Depth is the longest path from `all`, as Ansible's incremental depth updates end up.
    private mutating func computeDepths() {
        var depth: [String: Int] = [:]
        func visit(_ name: String) -> Int {
            if let known = depth[name] { return known }
            let parents = groupTable[name]?.parents ?? []
            let value = parents.isEmpty ? 0 : parents.map { visit($0) + 1 }.max() ?? 0
            depth[name] = value
            return value
        }
        for name in groupNames {
            let value = visit(name)
            groupTable[name]?.depth = value
        }
    }

    /// Ansible's `sort_groups`: by depth, then priority, then name.
    func sortedForPrecedence(_ names: [String]) -> [String] {
        names.sorted { a, b in
            let ga = groupTable[a], gb = groupTable[b]
            if ga?.depth != gb?.depth { return (ga?.depth ?? 0) < (gb?.depth ?? 0) }
            if ga?.priority != gb?.priority { return (ga?.priority ?? 1) < (gb?.priority ?? 1) }
            return a.precedesInCodePoints(b)
        }
    }

    private mutating func computePrecedenceGroups() {
        var ancestors: [String: Set<String>] = [:]
        func lineage(_ name: String) -> Set<String> {
            if let known = ancestors[name] { return known }
            var result: Set<String> = [name]
            for parent in groupTable[name]?.parents ?? [] { result.formUnion(lineage(parent)) }
            ancestors[name] = result
            return result
        }
        var table: [String: [String]] = [:]
        for name in hostNames {
            var groups: Set<String> = []
            for group in hostTable[name]?.groups ?? [] { groups.formUnion(lineage(group)) }
            groups.remove("all")
            table[name] = sortedForPrecedence(Array(groups))
        }
        precedenceGroups = table
    }

    private mutating func computeGroupsVariable() {
        var result = ValueDict()
        for name in groupNames { result[name] = .list(hostNames(inGroup: name).map(Value.string)) }
        groupsVariable = result
    }

    /// A group's hosts with those of its descendants, in Ansible's order: the group's own
    /// hosts, then its children's, level by level.
    public func hostNames(inGroup name: String) -> [String] {
        guard groupTable[name] != nil else { return [] }
        var ordered = [name]
        var visited: Set<String> = [name]
        var level = 0
        while level < ordered.count {
            for child in groupTable[ordered[level]]?.children ?? [] where visited.insert(child).inserted {
                ordered.append(child)
            }
            level += 1
        }
        var seen: Set<String> = []
        var hosts: [String] = []
        for group in ordered {
            for host in groupTable[group]?.hosts ?? [] where seen.insert(host).inserted { hosts.append(host) }
        }
        return hosts
    }
}
