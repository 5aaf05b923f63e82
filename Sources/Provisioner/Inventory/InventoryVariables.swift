/// A host's variables from the inventory, merged in Ansible's documented precedence
/// (low to high), each layer replacing whole top-level keys:
///
/// 1. inventory-file group vars: `all`, then the host's groups by depth, priority, name
/// 2. inventory `group_vars/all`, then playbook `group_vars/all`
/// 3. inventory `group_vars/<group>`, then playbook `group_vars/<group>` (groups in the same order)
/// 4. inventory-file host vars, inventory `host_vars/<host>`, playbook `host_vars/<host>`
///
/// and last the magic variables `inventory_hostname`, `inventory_hostname_short`,
/// `group_names`, `groups`, `inventory_file`, `inventory_dir`.
extension Inventory {
    public func variables(for host: String) -> ValueDict {
        var result = configuredVariables(for: host)
        for (key, value) in magicVariables(for: host) { result[key] = value }
        return result
    }

    /// Everything but the magic variables: what `ansible-inventory --list` shows.
    func configuredVariables(for host: String) -> ValueDict {
        let groups = precedenceGroups[host] ?? []
        var result = groupTable["all"]?.variables ?? ValueDict()
        for group in groups { result = result.merging(groupTable[group]?.variables ?? ValueDict()) }
        for directory in inventoryVars + playbookVars {
            result = result.merging(directory.groupVariables["all"] ?? ValueDict())
        }
        for directory in inventoryVars {
            for group in groups { result = result.merging(directory.groupVariables[group] ?? ValueDict()) }
        }
        for directory in playbookVars {
            for group in groups { result = result.merging(directory.groupVariables[group] ?? ValueDict()) }
        }
        if let declared = hostTable[host] {
            result = result.merging(declared.variables)
        } else if Inventory.localhostNames.contains(host) {
            // Ansible's implicit localhost: in no group but `all`'s vars apply; it connects locally.
            result["ansible_connection"] = "local"
        }
        for directory in inventoryVars + playbookVars {
            result = result.merging(directory.hostVariables[host] ?? ValueDict())
        }
        return result
    }

    /// The variables Ansible derives from the inventory itself rather than from any file.
    public func magicVariables(for host: String) -> ValueDict {
        var magic = ValueDict()
        magic["inventory_hostname"] = .string(host)
        magic["inventory_hostname_short"] = .string(Inventory.shortName(host))
        let names = (hostTable[host].map { _ in precedenceGroups[host] ?? [] } ?? [])
            .sorted { $0.precedesInCodePoints($1) }
        magic["group_names"] = .list(names.map(Value.string))
        magic["groups"] = .dict(groupsVariable)
        if let source = hostSource[host] {
            let file = InventoryLoader.absolute(source)
            magic["inventory_file"] = .string(file)
            magic["inventory_dir"] = .string(InventoryLoader.directory(of: file))
        }
        return magic
    }

    /// The names `ansible-inventory` strips from host variables because they are derived.
    static let magicVariableNames: Set<String> = [
        "inventory_hostname", "inventory_hostname_short", "group_names", "groups", "inventory_file", "inventory_dir",
    ]

    /// `inventory_hostname_short`: up to the first dot, except for IP addresses, which stay whole.
    static func shortName(_ host: String) -> String {
        let isIPv4 = host.split(separator: ".", omittingEmptySubsequences: false).count == 4
            && host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { UInt8($0) != nil }
        let isIPv6 = host.contains(":") && host.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
        if isIPv4 || isIPv6 { return host }
        return String(host.prefix { $0 != "." })
    }
}
