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
/// podman refuses a system storage.conf without runroot or graphroot ("runroot must
/// be set"), although it runs with no file at all: so the file written here always
/// holds both, containers-storage's built-in defaults filling in what the task and
/// the file do not set (a host without the vendor file, as Debian's podman without
/// its recommended containers-storage; or an older file that lacks them). The driver
/// stays unset unless given: containers-storage then picks one, as with no file. A
/// user's file needs no such filling: containers-storage fills in the rootless
/// defaults (`$XDG_RUNTIME_DIR/containers`, the system's `rootless_storage_path` or
/// `~/.local/share/containers/storage`) for what it lacks.
///
/// Moving graphroot, or changing driver, while the current store holds containers
/// or images would hide them from podman. Changing the driver where podman already
/// has its database (libpod/bolt_state.db, or db.sql for podman 5) does not take
/// effect even with an empty store: podman keeps the driver the database recorded,
/// with an error on every command, until `podman system reset`. Either way the task
/// fails unless `allow_reset`; nothing is ever deleted. Only when driver or graphroot
/// is given, a read-only probe inspects containers-storage's own files
/// (`ContainersStorageProbe`) at the graphroot podman uses now, as this module
/// derives it from the configuration it reads; it never runs podman, whose first
/// run would itself create the database. A graphroot the probe cannot read or find
/// counts as one that might hold something. The new graphroot is not created here:
/// podman creates it on first use.
struct StorageConfModule: Module {
    static let name = "storage_conf"
    static let summary = "Edit storage.conf for podman: [storage] driver, graphroot, runroot, options"
    static let drivers = ["overlay", "vfs", "btrfs", "zfs", "devmapper", "aufs"]
    static let vendorPath = "/usr/share/containers/storage.conf"
    /// containers-storage's built-in defaults for root, which podman needs in any system file.
    static let requiredDefaults = [("runroot", "/run/containers/storage"), ("graphroot", ContainersStorageProbe.defaultGraphRoot)]
    /// The start of a system file written without a vendor file to copy.
    static let header = """
        # containers-storage.conf(5), written by provision's storage_conf: there was no
        # \(vendorPath) to start from. podman needs runroot and graphroot in any
        # storage.conf it reads: those the task did not set are containers-storage's defaults.
        # Without a driver here, containers-storage picks one.

        """
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("driver", .string, choices: drivers, doc: "the storage driver ([storage] driver)"),
        ArgumentSpec("graphroot", .path, doc: "where images, containers and volumes live; podman creates the directory on first use"),
        ArgumentSpec("runroot", .path, doc: "where run-time state lives (a tmpfs such as /run/containers/storage)"),
        ArgumentSpec("options", .dict, doc: "[storage.options] keys; a mapping value becomes a sub-table "
            + "({overlay: {mountopt: nodev}} sets mountopt in [storage.options.overlay])"),
        ArgumentSpec("allow_reset", .bool, default: false, doc: "move graphroot or change driver even though the current "
            + "store holds containers or images (podman starts from an empty store), or podman's database there keeps "
            + "the old driver until podman system reset; nothing is deleted"),
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

    /// Only driver and graphroot can hide a store, so only they look at it.
    var checksStore: Bool { value("driver") != nil || value("graphroot") != nil }

    var storeProbe: [String] {
        ContainersStorageProbe.argv(user: file.user, config: file.systemPath, wanted: value("graphroot"))
    }

    func observations(_ context: ModuleContext) -> [Observation] {
        let vendor = Observation.file(path: StorageConfModule.vendorPath, content: true)
        guard file.isUserScope else { return file.observations() + [vendor] + (checksStore ? [.command(storeProbe)] : []) }
        // A user's graphroot may come from the system file's rootless_storage_path.
        guard checksStore else { return file.observations() }
        return file.observations()
            + [.file(path: ContainersStorageProbe.systemPath, content: true), vendor, .command(storeProbe)]
    }

    // MARK: Planning

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        try ContainersConfigFile.planning {
            let target = try file.target(observed, context)
            // A user's file starts empty; the vendor file is read then only for rootless_storage_path.
            let vendor = file.isUserScope && !checksStore ? nil : text(observed, StorageConfModule.vendorPath)
            var editor = try file.editor(target, seed: file.isUserScope ? "" : vendor ?? StorageConfModule.header,
                                         seedPath: StorageConfModule.vendorPath)
            let original = editor
            var changed: [String] = []
            for (name, value) in keys {
                if try editor.set(name, to: .string(value), in: ["storage"]) { changed.append("storage.\(name)") }
            }
            if let options { try ContainersConfigFile.merge(options, into: ["storage", "options"], &editor, changed: &changed) }
            // A file that is written, or already there, must be one podman accepts.
            if !file.isUserScope && (target.text != nil || !changed.isEmpty) {
                for (name, value) in StorageConfModule.requiredDefaults
                where editor.value(name, in: ["storage"])?.string?.isEmpty ?? true {
                    if try editor.set(name, to: .string(value), in: ["storage"]) { changed.append("storage.\(name) (default)") }
                }
            }

            var result = ValueDict([("path", .string(target.path))])
            if target.text == nil && vendor != nil && !file.isUserScope {
                result["seeded_from"] = .string(StorageConfModule.vendorPath)
            }
            var changes = file.changes(editor, target, what: changed)
            let writes = changes.contains { $0.actions.contains { if case .writeFile = $0 { return true } else { return false } } }
            guard writes, !target.isPlaceholder, checksStore else { return Plan(changes: changes, result: result) }

            let (before, after) = settings(observed, target, original, editor, vendor: vendor)
            let state = store(observed, at: before.graphRoot)
            if case .known(let store) = state { result["store"] = store.value }
            let moves = self.moves(before, after, state)
            guard !moves.isEmpty else { return Plan(changes: changes, result: result) }
            let check = StoreCheck(moves: moves, state: state, newDriver: after.driver)
            if let refusal = check.refusal, !allowReset { return .failed(refusal) }
            if let note = check.note, let last = changes.indices.last { changes[last].summary += " (\(note))" }
            return Plan(changes: changes, result: result)
        }
    }

    private func text(_ observed: Observations, _ path: String) -> String? {
        observed.file(path)?.content.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The graphroot and driver podman takes from the configuration before and after the edit.
    private func settings(_ observed: Observations, _ target: ContainersConfigFile.Target, _ original: TOMLEditor,
                          _ edited: TOMLEditor, vendor: String?) -> (StorageSettings, StorageSettings) {
        guard let account = target.user else { return (.system(original), .system(edited)) }
        // A system file that does not parse leaves containers-storage on its defaults.
        let system = (text(observed, ContainersStorageProbe.systemPath) ?? vendor).flatMap { try? TOMLEditor(text: $0) }
        return (.user(target.text == nil ? nil : original, system: system, account: account),
                .user(edited, system: system, account: account))
    }

    /// What containers-storage holds at one graphroot.
    struct GraphRoot: Equatable {
        var path: String
        var stores: [ContainersStorageProbe.Store]
        /// podman's database files, relative to the graphroot.
        var databases: [String]

        var containers: Int { stores.reduce(0) { $0 + $1.containers } }
        var images: Int { stores.reduce(0) { $0 + $1.images } }
        var isEmpty: Bool { containers == 0 && images == 0 }
        /// The driver of the only store there.
        var driver: String? { Set(stores.map(\.driver)).count == 1 ? stores.first?.driver : nil }

        var value: Value {
            .dict(ValueDict([("graphroot", .string(path)), ("drivers", .list(stores.map { .string($0.driver) })),
                             ("containers", .int(containers)), ("images", .int(images)),
                             ("database", databases.first.map { .string(PathText.join(path, $0)) } ?? .null)]))
        }
    }

    enum StoreState: Equatable {
        case known(GraphRoot)
        case unknown(String)
    }

    /// The store at `graphRoot` as the probe found it.
    func store(_ observed: Observations, at graphRoot: String) -> StoreState {
        if graphRoot.contains("$") { return .unknown("graphroot \(graphRoot) names a variable that cannot be expanded here") }
        guard let output = observed.command(storeProbe) else { return .unknown("no answer from the probe") }
        guard output.status == 0 else {
            let message = output.stderr.split(separator: "\n").last.map(String.init) ?? "exit status \(output.status)"
            return .unknown("the probe of the store failed: \(message)")
        }
        guard let found = ContainersStorageProbe.parse(output.stdout) else {
            return .unknown("unexpected answer from the probe of the store: \(output.stdout.prefix(200))")
        }
        switch found[graphRoot] {
        case nil:
            return .unknown("graphroot \(graphRoot) was not found by the probe, which reads graphroot and rootless_storage_path "
                + "only as \"plain\" or 'literal' strings without escapes")
        case .unreadable?:
            return .unknown("cannot read \(graphRoot)")
        case .absent?:
            return .known(GraphRoot(path: graphRoot, stores: [], databases: []))
        case .present(let stores, let databases)?:
            return .known(GraphRoot(path: graphRoot, stores: stores, databases: databases))
        }
    }

    enum Move: Equatable {
        case graphRoot(from: String, to: String)
        /// `from` is nil when containers-storage picks the driver and no single store shows which.
        case driver(from: String?, to: String)
    }

    /// What the edit changes about the store podman uses.
    func moves(_ before: StorageSettings, _ after: StorageSettings, _ state: StoreState) -> [Move] {
        var moves: [Move] = []
        if after.graphRoot != before.graphRoot { moves.append(.graphRoot(from: before.graphRoot, to: after.graphRoot)) }
        guard let driver = after.driver else { return moves }
        switch state {
        case .unknown:
            if before.driver != driver { moves.append(.driver(from: before.driver, to: driver)) }
        case .known(let store):
            // Unset, the driver is the one of the store already there.
            let current = before.driver ?? store.driver
            if current.map({ $0 != driver }) ?? store.stores.contains(where: { $0.driver != driver }) {
                moves.append(.driver(from: current, to: driver))
            }
        }
        return moves
    }
}

extension StorageConfModule {
    /// Whether moves would hide containers or images, or not take effect, and what to say.
    struct StoreCheck {
        let moves: [Move]
        let state: StoreState
        let newDriver: String?

        private var movesGraphRoot: Bool { moves.contains { if case .graphRoot = $0 { return true } else { return false } } }
        private var changesDriver: Bool { moves.contains { if case .driver = $0 { return true } else { return false } } }
        private var what: String { moves.map(describe).joined(separator: " and ") }

        /// What podman no longer sees afterwards: the whole store when graphroot moves,
        /// else the stores of other drivers.
        private func hidden(_ store: GraphRoot) -> GraphRoot {
            guard !movesGraphRoot else { return store }
            var hidden = store
            hidden.stores.removeAll { $0.driver == newDriver }
            return hidden
        }

        /// podman records the driver in its database and keeps using it, with an error
        /// on every command, until `podman system reset`; a new graphroot gets a new database.
        private func database(_ store: GraphRoot) -> String? {
            guard changesDriver, !movesGraphRoot, let file = store.databases.first else { return nil }
            return PathText.join(store.path, file)
        }

        var refusal: String? {
            switch state {
            case .unknown(let why):
                return "cannot tell whether \(what) would hide containers or images from podman (\(why)). "
                    + "Set allow_reset: true to write the setting anyway (nothing is deleted)"
            case .known(let store):
                let hidden = hidden(store)
                if !hidden.isEmpty {
                    return "\(what) would hide the \(count(hidden)) in \(store.path) from podman. "
                        + "To proceed: remove them (podman system reset; podman save/export what you need first), "
                        + "or move the store yourself with podman stopped, or set allow_reset: true to start from an empty store "
                        + "(nothing is deleted)"
                }
                guard let database = database(store) else { return nil }
                let reset = store.isEmpty ? "it deletes the empty store and the database"
                    : "it deletes the \(count(store)) in \(store.path) and the database; "
                        + "podman save/export what you need first"
                return "\(what) would not take effect: podman keeps using the driver recorded in its database \(database) "
                    + "until podman system reset\(store.isEmpty ? ", although the store holds no containers or images" : ""). "
                    + "To proceed: run podman system reset first (\(reset)), or set allow_reset: true to write the setting "
                    + "anyway (nothing is deleted)"
            }
        }

        /// What the summary says when the write goes ahead.
        var note: String? {
            guard case .known(let store) = state else { return nil }
            var notes: [String] = []
            let hidden = hidden(store)
            if !hidden.isEmpty { notes.append("allow_reset: the \(count(hidden)) stay in \(store.path)") }
            if let database = database(store) {
                notes.append("podman keeps using the driver recorded in \(database) until podman system reset")
            }
            return notes.isEmpty ? nil : notes.joined(separator: "; ")
        }

        private func describe(_ move: Move) -> String {
            switch move {
            case let .graphRoot(from, to): return "moving graphroot from \(from) to \(to)"
            case let .driver(from?, to): return "changing the driver from \(from) to \(to)"
            case let .driver(nil, to): return "changing the driver to \(to)"
            }
        }

        private func count(_ store: GraphRoot) -> String {
            func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
            return "\(plural(store.containers, "container")) and \(plural(store.images, "image"))"
        }
    }
}
