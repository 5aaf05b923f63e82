import Provisioner

/// Ansible's `user` (Linux): an account present with the given uid, primary and
/// supplementary groups, shell, home and comment, or absent. Plans `useradd`,
/// `usermod` (one per aspect that differs) and `userdel`.
struct UserModule: Module {
    static let name = "user"
    static let summary = "Manage user accounts"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("name", .string, required: true, aliases: ["user"], doc: "the account name"),
        ArgumentSpec("state", .string, default: "present", choices: ["present", "absent"], doc: "whether the account should exist"),
        ArgumentSpec("uid", .int, doc: "user id"),
        ArgumentSpec("non_unique", .bool, default: false, doc: "allow a uid that another account has (with uid)"),
        ArgumentSpec("group", .string, doc: "primary group (name or gid); it must exist"),
        ArgumentSpec("groups", .list, doc: "supplementary groups; an empty list removes them all (unless append)"),
        ArgumentSpec("append", .bool, default: false, doc: "add groups to the current ones instead of replacing them"),
        ArgumentSpec("comment", .string, doc: "the GECOS field (full name)"),
        ArgumentSpec("home", .path, doc: "home directory"),
        ArgumentSpec("move_home", .bool, default: false, doc: "move the old home's content when home changes"),
        ArgumentSpec("shell", .path, doc: "login shell"),
        ArgumentSpec("create_home", .bool, default: true, aliases: ["createhome"], doc: "create the home directory with a new account"),
        ArgumentSpec("system", .bool, default: false, doc: "make a system account (only when it is created)"),
        ArgumentSpec("remove", .bool, default: false, doc: "with state absent: remove the home directory and mail spool too"),
        ArgumentSpec("force", .bool, default: false, doc: "with state absent: remove even if the user is logged in"),
    ]

    let name: String
    let present: Bool
    let uid: Int?
    let nonUnique: Bool
    let group: String?
    /// Nil: leave them alone; empty: remove all (unless appending).
    let groups: [String]?
    let append: Bool
    let comment: String?
    let home: String?
    let moveHome: Bool
    let shell: String?
    let createHome: Bool
    let system: Bool
    let remove: Bool
    let force: Bool

    init(_ arguments: ModuleArguments) throws {
        name = arguments.string("name") ?? ""
        present = arguments.string("state") != "absent"
        uid = arguments.int("uid")
        nonUnique = arguments.bool("non_unique")
        group = arguments.string("group")
        // Ansible joins the list with commas and splits it again, dropping blanks.
        groups = arguments.strings("groups").map { list in
            var seen = Set<String>()
            return list.flatMap { $0.split(separator: ",") }.map { $0.trimming(" ") }
                .filter { !$0.isEmpty && seen.insert($0).inserted }
        }
        append = arguments.bool("append")
        comment = arguments.string("comment")
        home = arguments.string("home")
        moveHome = arguments.bool("move_home")
        shell = arguments.string("shell")
        createHome = arguments.bool("create_home")
        system = arguments.bool("system")
        remove = arguments.bool("remove")
        force = arguments.bool("force")
        if name.isEmpty || name.contains(":") || name.contains("\n") {
            throw ModuleError("'\(name)' is not a valid user name", argument: "name")
        }
    }

    // MARK: Observations

    var passwdProbe: [String] { ["getent", "passwd", name] }
    var membershipProbe: [String] { ["id", "-Gn", name] }
    /// The groups named anywhere in the task, and one named like the user (useradd's -N case).
    var groupProbe: [String] { ["getent", "group", name] + [group].compactMap { $0 } + (groups ?? []) }

    func observations(_ context: ModuleContext) -> [Observation] {
        present ? [.command(passwdProbe), .command(membershipProbe), .command(groupProbe)] : [.command(passwdProbe)]
    }

    // MARK: Plan

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        let current = AccountDatabase.user(observed.command(passwdProbe))
        guard present else { return removal(current) }
        var known = AccountDatabase.groups(observed.command(groupProbe))
        let missing = ([group].compactMap { $0 } + (groups ?? [])).filter { AccountDatabase.find($0, in: known) == nil }
        if let first = missing.first {
            // In check mode a group that an earlier task creates does not exist yet (a bundle's --dry-run plans the
            // group, then its user): the account is planned as if it did, and the plan says so. Otherwise an error.
            guard context.checkMode, missing.allSatisfy({ Int($0) == nil }) else { return .failed("Group \(first) does not exist") }
            known += missing.map { AccountDatabase.Group(name: $0, gid: -1, members: []) }
            var plan = planPresent(current, known, observed)
            for index in plan.changes.indices { plan.changes[index].summary += " (group \(missing.joined(separator: ", ")) does not exist yet)" }
            plan.result["group"] = nil
            return plan
        }
        return planPresent(current, known, observed)
    }

    func planPresent(_ current: AccountDatabase.User?, _ known: [AccountDatabase.Group], _ observed: Observations) -> Plan {
        guard let current else { return creation(known) }
        let changes = [
            uidChange(current),
            primaryGroupChange(current, known),
            groupsChange(current, known, membership: observed.command(membershipProbe)),
            fieldChange("comment", "-c", current.comment, comment),
            homeChange(current),
            fieldChange("shell", "-s", current.shell, shell),
        ].compactMap { $0 }
        return Plan(changes: changes, result: result(uid: uid ?? current.uid,
                                                     gid: group.flatMap { AccountDatabase.find($0, in: known)?.gid } ?? current.gid,
                                                     comment: comment ?? current.comment, home: home ?? current.home,
                                                     shell: shell ?? current.shell))
    }

    func result(uid: Int?, gid: Int?, comment: String?, home: String?, shell: String?) -> ValueDict {
        var result = ValueDict([("name", .string(name)), ("state", "present"), ("system", .bool(system)),
                                ("create_home", .bool(createHome)), ("move_home", .bool(moveHome)), ("append", .bool(append))])
        if let uid { result["uid"] = .int(uid) }
        if let gid { result["group"] = .int(gid) }
        if let comment { result["comment"] = .string(comment) }
        if let home { result["home"] = .string(home) }
        if let shell { result["shell"] = .string(shell) }
        if let groups { result["groups"] = .string(groups.joined(separator: ",")) }
        return result
    }

    // MARK: Aspect: the account's existence

    func creation(_ known: [AccountDatabase.Group]) -> Plan {
        var argv = ["useradd"]
        if let uid { argv += ["-u", String(uid)] + (nonUnique ? ["-o"] : []) }
        if let group {
            argv += ["-g", group]
        } else if AccountDatabase.find(name, in: known)?.name == name {
            // A group named like the user exists: useradd must not try to create it.
            argv.append("-N")
        }
        if let groups, !groups.isEmpty { argv += ["-G", groups.joined(separator: ",")] }
        if let comment { argv += ["-c", comment] }
        if let home { argv += ["-d", home] }
        if let shell { argv += ["-s", shell] }
        argv.append(createHome ? "-m" : "-M")
        if system { argv.append("-r") }
        argv.append(name)
        let change = Change("create user \(name)", diff: TextDiff(label: "user \(name)", before: "", after: "\(name): present\n"),
                            actions: [.run(Command(argv))])
        return Plan(changes: [change], result: result(uid: uid, gid: group.flatMap { AccountDatabase.find($0, in: known)?.gid },
                                                      comment: comment, home: home, shell: shell))
    }

    func removal(_ current: AccountDatabase.User?) -> Plan {
        let result = ValueDict([("name", .string(name)), ("state", "absent"), ("force", .bool(force)), ("remove", .bool(remove))])
        guard current != nil else { return Plan(result: result) }
        let argv = ["userdel"] + (force ? ["-f"] : []) + (remove ? ["-r"] : []) + [name]
        return Plan(changes: [Change("remove user \(name)", diff: TextDiff(label: "user \(name)", before: "\(name): present\n", after: ""),
                                     actions: [.run(Command(argv))])],
                    result: result)
    }

    // MARK: Aspects of an existing account

    func usermod(_ options: [String], _ summary: String, before: String, after: String) -> Change {
        Change(summary, diff: TextDiff(label: "user \(name)", before: before + "\n", after: after + "\n"),
               actions: [.run(Command(["usermod"] + options + [name]))])
    }

    func uidChange(_ current: AccountDatabase.User) -> Change? {
        guard let uid, uid != current.uid else { return nil }
        return usermod(["-u", String(uid)] + (nonUnique ? ["-o"] : []), "uid of \(name): \(current.uid) -> \(uid)",
                       before: "uid: \(current.uid)", after: "uid: \(uid)")
    }

    /// Compared by gid, as Ansible does, so a group given by name or number both work.
    func primaryGroupChange(_ current: AccountDatabase.User, _ known: [AccountDatabase.Group]) -> Change? {
        guard let group, let wanted = AccountDatabase.find(group, in: known), wanted.gid != current.gid else { return nil }
        let now = known.first { $0.gid == current.gid }?.name ?? String(current.gid)
        return usermod(["-g", String(wanted.gid)], "primary group of \(name): \(now) -> \(wanted.name)",
                       before: "group: \(now)", after: "group: \(wanted.name)")
    }

    /// Supplementary groups: `id -Gn` lists the primary group first, then the others.
    func groupsChange(_ current: AccountDatabase.User, _ known: [AccountDatabase.Group], membership: CommandOutput?) -> Change? {
        guard let groups else { return nil }
        let listed = (membership?.status == 0 ? membership?.stdout ?? "" : "").split(whereSeparator: \.isWhitespace).map(String.init)
        let primary = listed.first
        let wanted = groups.compactMap { AccountDatabase.find($0, in: known)?.name }
        // The primary group counts as held when the task lists it, so asking for it is not a change.
        let held = Set(listed.dropFirst()).union(primary.map { wanted.contains($0) ? [$0] : [] } ?? [])
        let before = listed.dropFirst().joined(separator: ",")
        if wanted.isEmpty {
            guard !append, !held.isEmpty else { return nil }
            return usermod(["-G", ""], "remove \(name) from all supplementary groups", before: "groups: \(before)", after: "groups: ")
        }
        if append {
            let missing = wanted.filter { !held.contains($0) }
            guard !missing.isEmpty else { return nil }
            return usermod(["-a", "-G", wanted.joined(separator: ",")], "add \(name) to \(missing.joined(separator: ", "))",
                           before: "groups: \(before)", after: "groups: \((listed.dropFirst() + missing).joined(separator: ","))")
        }
        guard Set(wanted) != held else { return nil }
        return usermod(["-G", wanted.joined(separator: ",")], "groups of \(name): \(before) -> \(wanted.joined(separator: ","))",
                       before: "groups: \(before)", after: "groups: \(wanted.joined(separator: ","))")
    }

    func fieldChange(_ field: String, _ option: String, _ current: String, _ wanted: String?) -> Change? {
        guard let wanted, wanted != current else { return nil }
        return usermod([option, wanted], "\(field) of \(name): '\(current)' -> '\(wanted)'",
                       before: "\(field): \(current)", after: "\(field): \(wanted)")
    }

    func homeChange(_ current: AccountDatabase.User) -> Change? {
        guard let home, home != current.home else { return nil }
        return usermod(["-d", home] + (moveHome ? ["-m"] : []), "home of \(name): \(current.home) -> \(home)",
                       before: "home: \(current.home)", after: "home: \(home)")
    }
}
