import Provisioner

/// Ansible's `package` (also answering to `apt` and `dnf`): packages present, at the
/// newest version, or absent, through the manager the `pkg_mgr` fact names. A list is
/// one transaction, so dependencies resolve together and the host is locked once.
///
/// Names that differ between the families (`PackageManager.equivalents`, e.g. Debian's
/// `uidmap` and Fedora's `shadow-utils`) are turned into the host's name first; the
/// result's `name` lists the names used. `update_cache` refreshes the index only as the
/// first step of a change that installs or upgrades, never on its own, so a converged
/// host reports no change; `latest` therefore judges "newer" by the index as it was.
struct PackageModule: Module {
    static let name = "package"
    static let aliases = ["apt", "dnf"]
    static let summary = "Install, upgrade or remove packages with apt or dnf (one transaction)"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("name", .list, required: true, aliases: ["pkg", "package"],
                     doc: "package names (a list, or one comma-separated string); names that differ between Debian and RedHat are mapped"),
        ArgumentSpec("state", .string, default: "present", choices: ["present", "absent", "latest", "installed", "removed"],
                     doc: "present (installed, any version), latest (upgraded to the index's candidate) or absent; installed/removed as in Ansible"),
        ArgumentSpec("update_cache", .bool, default: false, aliases: ["update-cache"],
                     doc: "refresh the index (apt-get update / dnf makecache) first when something is installed or upgraded; "
                        + "never a change on its own, so a converged host stays unchanged"),
        ArgumentSpec("cache_valid_time", .int,
                     doc: "accepted as in Ansible's apt; the index is refreshed only before an install or upgrade anyway"),
        ArgumentSpec("install_recommends", .bool, aliases: ["install-recommends"],
                     doc: "apt only: false installs without recommended packages (--no-install-recommends), true with them; unset keeps apt's setting"),
        ArgumentSpec("purge", .bool, default: false, doc: "apt only, with absent: remove configuration files too"),
    ]

    enum State: String { case present, latest, absent }

    let names: [String]
    let state: State
    let updateCache: Bool
    let installRecommends: Bool?
    let purge: Bool

    init(_ arguments: ModuleArguments) throws {
        names = (arguments.strings("name") ?? []).map { $0.trimming(" ") }.filter { !$0.isEmpty }
        switch arguments.string("state") {
        case "absent", "removed": state = .absent
        case "latest": state = .latest
        default: state = .present
        }
        updateCache = arguments.bool("update_cache")
        installRecommends = arguments["install_recommends"].flatMap(ModuleArguments.boolean)
        purge = arguments.bool("purge")
        if names.isEmpty { throw ModuleError("name must list at least one package", argument: "name") }
        if let odd = names.first(where: { !PackageManager.isPlainName($0) }) {
            throw ModuleError("'\(odd)' is not a plain package name: version pins (=, >), globs, groups (@), "
                + "file paths and options are not supported; give package names", argument: "name")
        }
        if purge && state != .absent {
            throw ModuleError("purge applies to state absent only", argument: "purge")
        }
    }

    /// The names this host uses, in order, once each.
    func nativeNames(_ manager: PackageManager) -> [String] {
        var seen = Set<String>()
        return names.map(manager.native).filter { seen.insert($0).inserted }
    }

    func observations(_ context: ModuleContext) -> [Observation] {
        guard let manager = PackageManager(facts: context.facts) else { return [] }
        let native = nativeNames(manager)
        var wanted: [Observation] = [.command(manager.installedProbe(native))]
        if state == .latest { wanted.append(.command(manager.upgradeProbe(native))) }
        return wanted
    }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        guard let manager = PackageManager(facts: context.facts) else { return .failed(PackageManager.unsupported(context.facts)) }
        let native = nativeNames(manager)
        var result = ValueDict([("name", .list(native.map { .string($0) })), ("state", .string(state.rawValue)),
                                ("pkg_mgr", .string(manager.rawValue))])
        let installed: [String: PackageManager.Installed]
        switch manager.parseInstalled(observed.command(manager.installedProbe(native)), native) {
        case .success(let found): installed = found
        case .failure(let failure): return .failed(failure.message)
        }
        if state == .absent {
            if let refusal = names.lazy.compactMap(manager.broaderRemoval).first { return .failed(refusal) }
            return Plan(changes: [removal(native, installed, manager)].compactMap { $0 }, result: result)
        }
        var upgrades: [String: String] = [:]
        if state == .latest {
            switch manager.parseUpgrades(observed.command(manager.upgradeProbe(native)), installed) {
            case .success(let found): upgrades = found
            case .failure(let failure): return .failed(failure.message)
            }
        }
        let change = installation(native, installed, upgrades, manager)
        result["cache_updated"] = .bool(change != nil && updateCache)
        return Plan(changes: [change].compactMap { $0 }, result: result)
    }

    // MARK: Aspects

    /// One change for everything missing or outdated, after the index refresh when asked.
    func installation(_ native: [String], _ installed: [String: PackageManager.Installed], _ upgrades: [String: String],
                      _ manager: PackageManager) -> Change? {
        let missing = native.filter { installed[$0]?.isInstalled != true }
        let outdated = native.filter { upgrades[$0] != nil }
        guard !missing.isEmpty || !outdated.isEmpty else { return nil }
        var actions: [Action] = updateCache ? [.run(manager.refreshCommand)] : []
        switch manager {
        case .apt:
            // One apt-get install both installs the missing and upgrades the outdated.
            actions.append(.run(manager.installCommand(missing + outdated, installRecommends: installRecommends)))
        case .dnf:
            if !missing.isEmpty { actions.append(.run(manager.installCommand(missing))) }
            if !outdated.isEmpty { actions.append(.run(manager.upgradeCommand(outdated.map { installed[$0]?.package ?? $0 }))) }
        }
        let summary = [missing.isEmpty ? nil : "install " + missing.joined(separator: ", "),
                       outdated.isEmpty ? nil : "upgrade " + outdated.joined(separator: ", ")]
            .compactMap { $0 }.joined(separator: "; ")
        let before = (missing + outdated).map { "\($0): \(installed[$0].map(\.version).flatMap(\.nonEmpty) ?? "absent")\n" }
        let after = missing.map { "\($0): installed\n" } + outdated.map { "\($0): \(upgrades[$0] ?? "latest")\n" }
        return Change(summary, diff: TextDiff(label: "packages", before: before.joined(), after: after.joined()), actions: actions)
    }

    /// One change removing whatever of the names is on the host.
    func removal(_ native: [String], _ installed: [String: PackageManager.Installed], _ manager: PackageManager) -> Change? {
        var targets: [String] = [], before = ""
        for name in native {
            guard let current = installed[name], current.hasFiles else { continue }
            // Without purge, a package whose configuration files alone remain is already removed.
            if current.hasOnlyConfiguration && !purge { continue }
            // dnf removes what answers for the name (a provider), apt the name as given (with its arch).
            let target = manager == .dnf ? current.package : name
            guard !targets.contains(target) else { continue }
            targets.append(target)
            before += "\(target): \(current.version.nonEmpty ?? "installed")\n"
        }
        guard !targets.isEmpty else { return nil }
        return Change("\(purge ? "purge" : "remove") " + targets.joined(separator: ", "),
                      diff: TextDiff(label: "packages", before: before, after: targets.map { "\($0): absent\n" }.joined()),
                      actions: [.run(manager.removeCommand(targets, purge: purge))])
    }
}
