import Provisioner

/// containers-storage's `storage.conf` (podman, buildah, skopeo): the `[storage]`
/// keys `driver`, `graphroot`, `runroot` and `[storage.options…]`, edited in place
/// so comments and every other key stay as they are.
///
/// containers-storage reads ONE storage.conf: /etc/containers/storage.conf replaces
/// /usr/share/containers/storage.conf outright, and a user's
/// ~/.config/containers/storage.conf replaces both (containers-storage.conf(5),
/// FILES). So a missing /etc file starts as a copy of the vendor file, keeping its
/// defaults and comments; a user's file starts empty, since the vendor's root paths
/// would be wrong for a rootless user.
///
/// Moving graphroot, or changing driver, while the current store holds containers
/// or images would hide them from podman (and podman 4 keeps using the driver its
/// database recorded, with an error on every command, until `podman system reset`).
/// The task fails then unless `allow_reset`; nothing is ever deleted. The store is
/// read with `podman info`, only when driver or graphroot is given (in user scope as
/// that user, through runuser when running as root); without podman there is
/// nothing to hide, and a store podman cannot read counts as one that might hold
/// something. The new graphroot is not created here: podman creates it on first use.
struct StorageConfModule: Module {
    static let name = "storage_conf"
    static let summary = "Edit storage.conf for podman: [storage] driver, graphroot, runroot, options"
    static let drivers = ["overlay", "vfs", "btrfs", "zfs", "devmapper", "aufs"]
    static let vendorPath = "/usr/share/containers/storage.conf"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("driver", .string, choices: drivers, doc: "the storage driver ([storage] driver)"),
        ArgumentSpec("graphroot", .path, doc: "where images, containers and volumes live; podman creates the directory on first use"),
        ArgumentSpec("runroot", .path, doc: "where run-time state lives (a tmpfs such as /run/containers/storage)"),
        ArgumentSpec("options", .dict, doc: "[storage.options] keys; a mapping value becomes a sub-table "
            + "({overlay: {mountopt: nodev}} sets mountopt in [storage.options.overlay])"),
        ArgumentSpec("allow_reset", .bool, default: false, doc: "move graphroot or change driver even though the current "
            + "store holds containers or images: podman starts from an empty store (nothing is deleted)"),
    ] + ContainersConfigFile.specs("storage.conf")

    let file: ContainersConfigFile
    /// driver, graphroot, runroot, in the order they are written.
    let keys: [(name: String, value: String)]
    let options: TOMLTable?
    let allowReset: Bool

    init(_ arguments: ModuleArguments) throws {
        file = try ContainersConfigFile(arguments, fileName: "storage.conf")
        keys = ["driver", "graphroot", "runroot"].compactMap { name in arguments.string(name).map { (name, $0) } }
        for (name, value) in keys where name != "driver" && !value.hasPrefix("/") && !value.hasPrefix("$") {
            throw ModuleError("\(name) must be an absolute path (or start with $HOME in a user's file), not '\(value)'",
                              argument: name)
        }
        options = try arguments.dict("options").map { try ContainersConfigFile.table($0, at: "options", argument: "options") }
        allowReset = arguments.bool("allow_reset")
    }

    func value(_ key: String) -> String? { keys.first { $0.name == key }?.value }

    // MARK: Observing

    static let storeFormat = "{{.Store.GraphRoot}}|{{.Store.GraphDriverName}}|{{.Store.ContainerStore.Number}}|{{.Store.ImageStore.Number}}"

    /// The store podman uses now, as the user in user scope. Exits 0 with no output
    /// when podman is not installed.
    var storeProbe: [String] {
        let script = """
            command -v podman >/dev/null 2>&1 || exit 0
            if [ -n "$1" ]; then
              if [ "$(id -un)" = "$1" ]; then exec podman info --format "$3"; fi
              exec runuser -u "$1" -- podman info --format "$3"
            fi
            if [ -n "$2" ] && [ -f "$2" ]; then export CONTAINERS_STORAGE_CONF="$2"; fi
            exec podman info --format "$3"
            """
        return ["/bin/sh", "-c", script, "sh", file.user ?? "", file.path ?? "", StorageConfModule.storeFormat]
    }

    func observations(_ context: ModuleContext) -> [Observation] {
        guard value("driver") != nil || value("graphroot") != nil else { return file.observations() + vendorObservation }
        return file.observations() + vendorObservation + [.command(storeProbe)]
    }

    private var vendorObservation: [Observation] {
        file.isUserScope ? [] : [.file(path: StorageConfModule.vendorPath, content: true)]
    }

    struct Store: Equatable {
        var graphRoot: String
        var driver: String
        var containers: Int
        var images: Int
        var isEmpty: Bool { containers == 0 && images == 0 }
    }

    enum StoreState: Equatable {
        case noPodman
        case known(Store)
        case unknown(String)
    }

    static func store(_ output: CommandOutput?) -> StoreState {
        guard let output else { return .unknown("no answer from the probe") }
        guard output.status == 0 else {
            let message = output.stderr.split(separator: "\n").last.map(String.init) ?? "exit status \(output.status)"
            return .unknown("podman info failed: \(message)")
        }
        let lines = output.stdout.split(separator: "\n")
        guard let line = lines.last else { return .noPodman }
        let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard f.count == 4, let containers = Int(f[2]), let images = Int(f[3]) else {
            return .unknown("unexpected podman info output \(line)")
        }
        return .known(Store(graphRoot: f[0], driver: f[1], containers: containers, images: images))
    }

    // MARK: Planning

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        try ContainersConfigFile.planning {
            let target = try file.target(observed, context)
            let vendor = file.isUserScope ? nil : observed.file(StorageConfModule.vendorPath)?.content
            var editor = try file.editor(target, seed: vendor.map { String(decoding: $0, as: UTF8.self) } ?? "",
                                         seedPath: StorageConfModule.vendorPath)
            var changed: [String] = []
            for (name, value) in keys {
                if try editor.set(name, to: .string(value), in: ["storage"]) { changed.append("storage.\(name)") }
            }
            if let options { try ContainersConfigFile.merge(options, into: ["storage", "options"], &editor, changed: &changed) }

            var result = ValueDict([("path", .string(target.path))])
            if target.text == nil && vendor != nil { result["seeded_from"] = .string(StorageConfModule.vendorPath) }
            var changes = file.changes(editor, target, what: changed)
            let writes = changes.contains { $0.actions.contains { if case .writeFile = $0 { return true } else { return false } } }
            guard writes, !target.isPlaceholder, value("driver") != nil || value("graphroot") != nil else {
                return Plan(changes: changes, result: result)
            }
            let state = StorageConfModule.store(observed.command(storeProbe))
            if case .known(let store) = state { result["store"] = storeValue(store) }
            let moves = self.moves(from: state, home: target.user?.home)
            guard !moves.isEmpty else { return Plan(changes: changes, result: result) }
            if let refusal = refusal(moves, state), !allowReset { return .failed(refusal) }
            if let note = note(moves, state), let last = changes.indices.last { changes[last].summary += " (\(note))" }
            return Plan(changes: changes, result: result)
        }
    }

    enum Move: Equatable {
        case graphRoot(from: String, to: String)
        case driver(from: String, to: String)
    }

    /// What the write changes about the store podman uses; with the store unknown, whatever was asked.
    func moves(from state: StoreState, home: String?) -> [Move] {
        let graphRoot = value("graphroot").map { normalized(expanding($0, home: home)) }
        switch state {
        case .noPodman:
            return []
        case .unknown:
            return [graphRoot.map { Move.graphRoot(from: "?", to: $0) }, value("driver").map { Move.driver(from: "?", to: $0) }]
                .compactMap { $0 }
        case .known(let store):
            var moves: [Move] = []
            if let graphRoot, graphRoot != normalized(store.graphRoot) {
                moves.append(.graphRoot(from: store.graphRoot, to: graphRoot))
            }
            if let driver = value("driver"), driver != store.driver { moves.append(.driver(from: store.driver, to: driver)) }
            return moves
        }
    }

    private func refusal(_ moves: [Move], _ state: StoreState) -> String? {
        let what = moves.map(describe).joined(separator: " and ")
        switch state {
        case .noPodman:
            return nil
        case .unknown(let why):
            return "cannot tell whether \(what) would hide containers or images from podman (\(why)). "
                + "Fix podman, or set allow_reset: true to write the setting anyway (nothing is deleted)"
        case .known(let store):
            guard !store.isEmpty else { return nil }
            return "\(what) would hide the \(count(store)) in \(store.graphRoot) from podman. "
                + "To proceed: remove them (podman system reset; podman save/export what you need first), "
                + "or move the store yourself with podman stopped, or set allow_reset: true to start from an empty store "
                + "(nothing is deleted)"
        }
    }

    /// What the summary says about the store when the write goes ahead.
    private func note(_ moves: [Move], _ state: StoreState) -> String? {
        var notes: [String] = []
        if case .known(let store) = state, !store.isEmpty {
            notes.append("allow_reset: the \(count(store)) stay in \(store.graphRoot)")
        }
        for case .driver(let from, _) in moves where from != "?" {
            notes.append("podman keeps using \(from), recorded in its database, until podman system reset")
        }
        return notes.isEmpty ? nil : notes.joined(separator: "; ")
    }

    private func describe(_ move: Move) -> String {
        switch move {
        case let .graphRoot(from, to) where from == "?": return "moving graphroot to \(to)"
        case let .graphRoot(from, to): return "moving graphroot from \(from) to \(to)"
        case let .driver(from, to) where from == "?": return "changing the driver to \(to)"
        case let .driver(from, to): return "changing the driver from \(from) to \(to)"
        }
    }

    private func count(_ store: Store) -> String {
        func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        return "\(plural(store.containers, "container")) and \(plural(store.images, "image"))"
    }

    private func storeValue(_ store: Store) -> Value {
        .dict(ValueDict([("graphroot", .string(store.graphRoot)), ("driver", .string(store.driver)),
                         ("containers", .int(store.containers)), ("images", .int(store.images))]))
    }

    /// `$HOME` and `${HOME}`, which containers-storage expands in a rootless graphroot.
    private func expanding(_ path: String, home: String?) -> String {
        guard let home else { return path }
        for variable in ["${HOME}", "$HOME"] where path.hasPrefix(variable) { return home + path.dropFirst(variable.count) }
        return path
    }

    private func normalized(_ path: String) -> String {
        var p = path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p
    }
}
