import Provisioner

/// Ansible's `package` (also answering to `apt`, `dnf` and `yum`): packages present, at the
/// newest version, or absent, through the manager the `pkg_mgr` fact names. A list is one
/// transaction, so dependencies resolve together and the host is locked once.
///
/// Names that differ between the families (`PackageManager.equivalents`, e.g. Debian's
/// `uidmap` and Fedora's `shadow-utils`) are turned into the host's name first; the
/// result's `name` lists the names used. As in Ansible, `update_cache` refreshes the index
/// before anything else (unless `cache_valid_time` says it is fresh enough); the refresh is a
/// change only when it is all the task does (apt), so a converged host stays unchanged. What
/// depends on the refreshed index (`latest`, `upgrade`) is then judged by apt's own summary.
///
/// Offline (`apply --bundle` of a bundle with packages, `context.offlinePackages`), packages come from the
/// bundle's repository only: the install (and `latest`'s candidate) reads its index alone, `update_cache` has
/// nothing to refresh (the bundle is the index), and a name the bundle lacks, a host of another release than
/// the bundle's, a system `upgrade` or a dnf host fail before anything changes.
struct PackageModule: Module {
    static let name = "package"
    static let aliases = ["apt", "dnf", "yum"]
    static let summary = "Install, upgrade or remove packages with apt or dnf (one transaction)"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("name", .list, aliases: ["pkg", "package"],
                     doc: "package names (a list, or one comma-separated string); names that differ between Debian and RedHat are mapped"),
        ArgumentSpec("state", .string, default: "present", choices: ["present", "absent", "latest", "installed", "removed"],
                     doc: "present (installed, any version), latest (upgraded to the index's candidate) or absent; installed/removed as in Ansible"),
        ArgumentSpec("update_cache", .bool, default: false, aliases: ["update-cache", "expire-cache"],
                     doc: "refresh the index first (apt-get update / dnf makecache); on its own, a change with apt"),
        ArgumentSpec("cache_valid_time", .int, default: 0,
                     doc: "apt: refresh only when the index is older than this many seconds (setting it implies update_cache)"),
        ArgumentSpec("upgrade", .string, default: "no", choices: ["no", "yes", "safe", "full", "dist"],
                     doc: "apt: upgrade the whole system (yes/safe: apt-get upgrade --with-new-pkgs; full/dist: dist-upgrade)"),
        ArgumentSpec("autoremove", .bool, default: false,
                     doc: "remove packages nothing needs any more (alone: apt-get/dnf autoremove; with names: along with them, apt)"),
        ArgumentSpec("default_release", .string, aliases: ["default-release"], doc: "apt: the release to install from (apt-get -t)"),
        ArgumentSpec("enablerepo", .list, doc: "dnf: repositories to enable for this task (--enablerepo)"),
        ArgumentSpec("disablerepo", .list, doc: "dnf: repositories to disable for this task (--disablerepo)"),
        ArgumentSpec("install_recommends", .bool, aliases: ["install-recommends"],
                     doc: "apt only: false installs without recommended packages (--no-install-recommends), true with them; unset keeps apt's setting"),
        ArgumentSpec("purge", .bool, default: false, doc: "apt only, with absent or autoremove: remove configuration files too"),
    ]

    enum State: String { case present, latest, absent }

    let names: [String]
    let state: State
    let updateCache: Bool
    let cacheValidTime: Int
    let upgrade: String?
    let autoremove: Bool
    let options: PackageManager.Options
    let purge: Bool

    init(_ arguments: ModuleArguments) throws {
        names = (arguments.strings("name") ?? []).map { $0.trimming(" ") }.filter { !$0.isEmpty }
        switch arguments.string("state") {
        case "absent", "removed": state = .absent
        case "latest": state = .latest
        default: state = .present
        }
        cacheValidTime = arguments.int("cache_valid_time") ?? 0
        updateCache = arguments.bool("update_cache") || cacheValidTime > 0
        upgrade = arguments.string("upgrade").flatMap { $0 == "no" ? nil : $0 }
        autoremove = arguments.bool("autoremove")
        options = PackageManager.Options(installRecommends: arguments["install_recommends"].flatMap(ModuleArguments.boolean),
                                         defaultRelease: arguments.string("default_release"),
                                         enableRepos: arguments.strings("enablerepo") ?? [], disableRepos: arguments.strings("disablerepo") ?? [])
        purge = arguments.bool("purge")
        if names.isEmpty && !updateCache && upgrade == nil && !autoremove {
            throw ModuleError(arguments["name"] != nil ? "name must list at least one package"
                                  : "one of the following is required: name, update_cache, upgrade, autoremove", argument: "name")
        }
        if let odd = names.first(where: { !PackageManager.isPlainName($0) }) {
            throw ModuleError("'\(odd)' is not a plain package name: version pins (=, >), globs, groups (@), "
                + "file paths and options are not supported; give package names", argument: "name")
        }
        if purge && state != .absent && !autoremove {
            throw ModuleError("purge applies to state absent or autoremove only", argument: "purge")
        }
        if upgrade != nil && !names.isEmpty && state == .absent {
            throw ModuleError("upgrade cannot be combined with removing packages", argument: "upgrade")
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
        var wanted: [Observation] = native.isEmpty ? [] : [.command(manager.installedProbe(native))]
        if state == .latest, !native.isEmpty { wanted.append(.command(upgradeProbe(manager, native, context))) }
        if updateCache && !context.offline && manager == .apt && cacheValidTime > 0 { wanted.append(.command(PackageManager.aptCacheAge)) }
        if let upgrade, manager == .apt { wanted.append(.command(PackageManager.aptSimulation(PackageManager.upgradeWords(upgrade)))) }
        if autoremove && native.isEmpty { wanted.append(.command(manager.autoremoveProbe(options))) }
        return wanted
    }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        guard let manager = PackageManager(facts: context.facts) else { return .failed(PackageManager.unsupported(context.facts)) }
        if let refusal = manager.refusal(options, upgrade: upgrade, purge: purge, autoremoveWithNames: autoremove && !names.isEmpty) {
            return .failed(refusal)
        }
        let native = nativeNames(manager)
        var result = ValueDict([("name", .list(native.map { .string($0) })), ("state", .string(state.rawValue)),
                                ("pkg_mgr", .string(manager.rawValue))])
        let offline = context.offlinePackages
        if offline != nil, upgrade != nil {
            return .failed("offline: upgrade (of the whole system) needs the package mirror, which is not in the bundle; "
                + "the bundle holds the packages the play names")
        }
        // Offline no mirror answers, and the bundle's repository (if any) is the index: there is nothing to refresh.
        let refresh = updateCache && !context.offline && !cacheIsFresh(observed, manager)
        if manager == .apt { result["cache_updated"] = .bool(refresh) }
        // The index refresh: the whole task (a change with apt, as Ansible reports it), or its first step.
        if native.isEmpty && upgrade == nil && !autoremove {
            guard refresh else { return Plan(result: result) }
            guard manager == .apt else { return Plan(result: result.merging(["msg": "Cache updated"]), steps: [refreshStep(manager)]) }
            return Plan(changes: [Change("update the package index", actions: [.run(manager.refreshCommand(options))])], result: result)
        }
        // After a refresh (never in check mode), what the new index offers is known only to apt.
        let judgedAfterRefresh = refresh && !context.checkMode
        var steps = refresh ? [refreshStep(manager)] : []
        var changes: [Change] = []
        if let upgrade {
            let words = PackageManager.upgradeWords(upgrade) + (autoremove ? ["--auto-remove"] : [])
            if judgedAfterRefresh {
                steps.append(aptStep("upgrade the system", PackageManager.aptCommand(words, options)))
            } else if let change = systemUpgrade(observed, words) {
                changes.append(change)
            }
        }
        if autoremove && native.isEmpty, let change = try autoremoval(observed, manager) { changes.append(change) }
        guard !native.isEmpty else { return Plan(changes: changes, result: result, steps: steps) }
        let installed: [String: PackageManager.Installed]
        switch manager.parseInstalled(observed.command(manager.installedProbe(native)), native) {
        case .success(let found): installed = found
        case .failure(let failure): return .failed(failure.message)
        }
        if state == .absent {
            if let refusal = names.lazy.compactMap(manager.broaderRemoval).first { return .failed(refusal) }
            return Plan(changes: changes + [removal(native, installed, manager)].compactMap { $0 }, result: result, steps: steps)
        }
        if state == .latest && judgedAfterRefresh && manager == .apt {
            // One apt-get install installs the missing and upgrades the outdated, by the fresh index.
            let command = manager.installCommand(native, options, autoremove: autoremove)
            steps.append(aptStep("install or upgrade \(native.joined(separator: ", "))", command))
            return Plan(changes: changes, result: result, steps: steps)
        }
        var upgrades: [String: String] = [:]
        if state == .latest {
            switch manager.parseUpgrades(observed.command(upgradeProbe(manager, native, context)), installed) {
            case .success(let found): upgrades = found
            case .failure(let failure): return .failed(failure.message)
            }
        }
        var change = installation(native, installed, upgrades, manager)
        if let offline, let planned = change {
            let wanted = native.filter { installed[$0]?.isInstalled != true || upgrades[$0] != nil }
            if let failure = offlineRefusal(offline, wanted, manager, context.facts) { return .failed(failure) }
            change?.actions = planned.actions.map { action in
                guard case .run(let command) = action else { return action }
                return .run(PackageManager.offline(offline.repository, command))
            }
        }
        return Plan(changes: changes + [change].compactMap { $0 }, result: result, steps: steps)
    }

    /// `latest`'s probe for newer versions; offline it asks the bundle's repository.
    func upgradeProbe(_ manager: PackageManager, _ native: [String], _ context: ModuleContext) -> [String] {
        let probe = manager.upgradeProbe(native, options)
        guard let offline = context.offlinePackages, manager == .apt else { return probe }
        return PackageManager.offline(offline.repository, probe)
    }

    /// Why `names` cannot be installed from the bundle here; nil when they can.
    func offlineRefusal(_ offline: OfflinePackages, _ names: [String], _ manager: PackageManager, _ facts: ValueDict) -> String? {
        let list = names.joined(separator: ", ")
        guard manager == .apt else {
            return "offline: package \(list) is not in the bundle for this host: the bundle's packages are for \(offline.target), "
                + "this host uses dnf (Fedora packages are not bundled)"
        }
        guard offline.onThisMachine else {
            return "offline: package \(list): the bundle's package repository is on the machine running provision, not on this host; "
                + "copy the bundle to the host and run its install.sh there"
        }
        let absent = names.filter { !offline.names.contains($0) }
        if !absent.isEmpty { return "offline: package \(absent.joined(separator: ", ")) is not in the bundle" }
        if let host = offline.target.mismatch(facts: facts) {
            let release = offline.target.distribution == "debian" ? "debian:\(facts["distribution_major_version"]?.string ?? "N")" : "RELEASE"
            return "offline: the bundle's packages are for \(offline.target) and this host runs \(host): "
                + "make the bundle for this host's release (provision bundle --packages-for \(release))"
        }
        return nil
    }

    /// `cache_valid_time`: apt's last successful update (or its lists folder) is recent enough.
    func cacheIsFresh(_ observed: Observations, _ manager: PackageManager) -> Bool {
        guard manager == .apt, cacheValidTime > 0, let output = observed.command(PackageManager.aptCacheAge) else { return false }
        let numbers = output.stdout.split(separator: "\n").compactMap { Int($0) }
        guard numbers.count == 2 else { return false }
        return numbers[1] - numbers[0] <= cacheValidTime
    }

    /// The refresh ahead of the rest: not a change of its own, but later observations are stale.
    func refreshStep(_ manager: PackageManager) -> HostStep {
        HostStep("refresh the package index", command: manager.refreshCommand(options)) { run in
            guard run.output.status == 0 else {
                return .failed("Failed to update the package index: \((run.output.stderr.isEmpty ? run.output.stdout : run.output.stderr).trimming("\n"))")
            }
            return StepOutcome(touched: true)
        }
    }

    /// An apt command whose effect its summary line tells ("0 upgraded, 0 newly installed, 0 to remove").
    func aptStep(_ summary: String, _ command: Command) -> HostStep {
        HostStep(summary, command: command) { run in
            let output = run.output
            guard output.status == 0 else {
                return .failed("'\(command.argv.joined(separator: " "))' failed: \((output.stderr.isEmpty ? output.stdout : output.stderr).trimming("\n"))",
                               result: ["stdout": .string(output.stdout), "stderr": .string(output.stderr), "rc": .int(Int(output.status))])
            }
            let changed = !output.stdout.contains("\n0 upgraded, 0 newly installed, 0 to remove") && PackageManager.aptSummary(output.stdout) != nil
            return StepOutcome(changed: changed, touched: changed, result: ["stdout": .string(output.stdout)])
        }
    }

    /// `upgrade` planned from apt's simulation (check mode, or no refresh first).
    func systemUpgrade(_ observed: Observations, _ words: [String]) -> Change? {
        let simulated = observed.command(PackageManager.aptSimulation(PackageManager.upgradeWords(upgrade ?? "yes")))?.stdout ?? ""
        guard let summary = PackageManager.aptSummary(simulated), summary != "0 upgraded, 0 newly installed, 0 to remove" else { return nil }
        return Change("upgrade the system: \(summary)", diff: TextDiff(label: "packages", before: "", after: summary + "\n"),
                      actions: [.run(PackageManager.aptCommand(words, options))])
    }

    /// `autoremove` alone, planned from what the manager would remove.
    func autoremoval(_ observed: Observations, _ manager: PackageManager) throws -> Change? {
        let output = observed.command(manager.autoremoveProbe(options))?.stdout ?? ""
        switch manager {
        case .apt:
            guard let summary = PackageManager.aptSummary(output), !summary.contains(" 0 to remove") else { return nil }
            return Change("autoremove: \(summary)", actions: [.run(PackageManager.aptCommand(["autoremove"] + (purge ? ["--purge"] : []), options))])
        case .dnf:
            guard output.contains("Removing") else { return nil }
            return Change("autoremove unneeded packages", actions: [.run(Command(["dnf", "autoremove", "-y"] + options.dnfRepos))])
        }
    }

    // MARK: Aspects

    /// One change for everything missing or outdated, after the index refresh when asked.
    func installation(_ native: [String], _ installed: [String: PackageManager.Installed], _ upgrades: [String: String],
                      _ manager: PackageManager) -> Change? {
        let missing = native.filter { installed[$0]?.isInstalled != true }
        let outdated = native.filter { upgrades[$0] != nil }
        guard !missing.isEmpty || !outdated.isEmpty else { return nil }
        var actions: [Action] = []
        switch manager {
        case .apt:
            // One apt-get install both installs the missing and upgrades the outdated.
            actions.append(.run(manager.installCommand(missing + outdated, options, autoremove: autoremove)))
        case .dnf:
            if !missing.isEmpty { actions.append(.run(manager.installCommand(missing, options))) }
            if !outdated.isEmpty { actions.append(.run(manager.upgradeCommand(outdated.map { installed[$0]?.package ?? $0 }, options))) }
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
                      actions: [.run(manager.removeCommand(targets, purge: purge, autoremove: autoremove, options))])
    }
}
