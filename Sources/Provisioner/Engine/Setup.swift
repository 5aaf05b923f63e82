import Foundation

/// `setup` (and `gather_facts`) as a task: facts gathered again in one round trip, narrowed by
/// `gather_subset` (min, hardware; `!x` leaves x out) and `filter` (shell patterns on `ansible_*`
/// names), merged into the facts later tasks see.
extension HostRun {
    /// The subsets Ansible's setup knows; provision gathers `min` and `hardware` facts.
    static let factSubsets: Set<String> = [
        "all", "min", "apparmor", "caps", "cmdline", "date_time", "distribution", "dns", "env", "fips", "local", "lsb",
        "pkg_mgr", "platform", "python", "selinux", "service_mgr", "ssh_pub_keys", "user", "hardware", "devices", "dmi",
        "mounts", "interfaces", "network", "virtual", "ohai", "facter", "loadavg", "system", "systemd",
    ]
    /// Facts from the hardware subset; every other gathered fact belongs to `min`.
    static let hardwareFacts: Set<String> = ["processor_nproc", "memtotal_mb", "nvidia_gpu", "nvidia_driver_version"]

    func setup(_ task: Task, _ templar: Templar) throws -> ItemOutcome {
        let args = try actionArguments(task, templar)
        let subsets = try HostRun.words(args["gather_subset"], default: ["all"])
        for subset in subsets where !HostRun.factSubsets.contains(subset.hasPrefix("!") ? String(subset.dropFirst()) : subset) {
            throw ModuleError("Bad subset '\(subset)' given to Ansible. gather_subset options allowed: \(HostRun.factSubsets.sorted().joined(separator: ", "))",
                              argument: "gather_subset")
        }
        let excluded = Set(subsets.filter { $0.hasPrefix("!") }.map { String($0.dropFirst()) })
        let wanted = Set(subsets.filter { !$0.hasPrefix("!") })
        let hardware = (wanted.contains("hardware") || (wanted.contains("all") && !excluded.contains("all"))) && !excluded.contains("hardware")
        let minimal = !excluded.contains("min")
        let patterns = try HostRun.words(args["filter"], default: [])

        let factsTransport = try transport(try become(task.common))
        var gathered = ValueDict()
        for (key, value) in try Facts.gather(host, via: factsTransport, memory: FactsMemory(host: factsTransport.name)) {
            guard HostRun.hardwareFacts.contains(key) ? hardware : minimal else { continue }
            guard patterns.isEmpty || patterns.contains(where: { fnmatch($0, "ansible_" + key, 0) == 0 }) else { continue }
            gathered[key] = value
        }
        var reported = ValueDict()
        for (key, value) in gathered { reported["ansible_" + key] = value }
        for (key, value) in [("gather_subset", Value.list(subsets.map(Value.string))), ("module_setup", .bool(true))]
        where patterns.isEmpty || patterns.contains(where: { fnmatch($0, key, 0) == 0 }) {
            reported[key] = value
        }
        absorbFacts(.dict(reported))
        aboveDefaults.formUnion(reported.keys)
        return ItemOutcome(status: .ok, result: ["ansible_facts": .dict(reported), "changed": false])
    }

    /// A list argument given as a list or a comma-separated string.
    static func words(_ value: Value?, default fallback: [String]) throws -> [String] {
        switch value {
        case nil, .null?: return fallback
        case .list(let items)?: return items.map { PythonString.strip($0.pythonText) }
        case let other?: return other.pythonText.split(separator: ",").map { PythonString.strip(String($0)) }.filter { !$0.isEmpty }
        }
    }
}
