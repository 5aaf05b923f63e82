import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

final class ModuleStorageConfTests: XCTestCase {
    private let path = "/etc/containers/storage.conf"
    private let vendorPath = "/usr/share/containers/storage.conf"

    /// The start of Debian 12's vendor file, comments and all.
    private let vendor = """
        # This file is the configuration file for all tools
        # that use the containers/storage library.
        [storage]

        # Default Storage Driver, Must be set for proper operation.
        driver = "overlay"

        # Temporary storage location
        runroot = "/run/containers/storage"

        # Primary Read/Write location of container storage
        graphroot = "/var/lib/containers/storage"

        # Storage path for rootless users
        #
        # rootless_storage_path = "$HOME/.local/share/containers/storage"

        [storage.options]
        # Storage options to be passed to underlying storage drivers
        additionalimagestores = [
        ]
        pull_options = {enable_partial_images = "false", use_hard_links = "false", ostree_repos=""}

        [storage.options.overlay]
        # mountopt specifies comma separated list of extra mount options
        mountopt = "nodev"

        """

    private let root = "/var/lib/containers/storage"

    /// The probe's answer for a store at `graphRoot`: one driver's store and, with `database`, podman 4's database.
    private func store(_ graphRoot: String = "/var/lib/containers/storage", _ driver: String = "overlay",
                       containers: Int = 0, images: Int = 0, database: Bool = true) -> CommandOutput {
        ModuleFixture.ok("DIR \(graphRoot)\nSTORE \(graphRoot) \(driver) \(containers) \(images)\n"
            + (database ? "DB \(graphRoot) libpod/bolt_state.db\n" : ""))
    }

    /// The probe's answer on a host where containers-storage never ran.
    private func fresh(_ graphRoots: String...) -> CommandOutput {
        ModuleFixture.ok(graphRoots.map { "NONE \($0)\n" }.joined())
    }

    private func plan(_ arguments: KeyValuePairs<String, Value>, file text: String?, vendor vendorText: String? = nil,
                      store answer: CommandOutput? = nil, line: UInt = #line) throws -> Plan {
        let module = try ModuleFixture.make(StorageConfModule.self, arguments)
        var files = ["/etc/containers": ModuleFixture.directory()]
        if let text { files[path] = ModuleFixture.file(text) }
        if let vendorText { files[vendorPath] = ModuleFixture.file(vendorText) }
        return try ModuleFixture.plan(module, files: files, commands: answer.map { [module.storeProbe: $0] } ?? [:], line: line)
    }

    func testOnlyTheChangedLineDiffersAndReplanningChangesNothing() throws {
        let p = try plan(["graphroot": "/srv/containers"], file: vendor, store: store())
        XCTAssertNil(p.failure)
        XCTAssertEqual(p.summaries, ["update /etc/containers/storage.conf: storage.graphroot"])
        XCTAssertEqual(p.written, vendor.replacingOccurrences(of: "graphroot = \"/var/lib/containers/storage\"",
                                                              with: "graphroot = \"/srv/containers\""))
        XCTAssertEqual(p.actions, [.writeFile(path: path, content: Array((p.written ?? "").utf8),
                                              attributes: FileAttributes(mode: 0o644), backup: false)])
        XCTAssertEqual(p.changes.first?.diff, TextDiff(label: path, before: vendor, after: p.written ?? ""))

        let again = try plan(["graphroot": "/srv/containers"], file: p.written, store: store("/srv/containers"))
        XCTAssertFalse(again.isChanged)
        XCTAssertNil(again.failure)
    }

    func testOptionsGoToStorageOptionsAndSubTables() throws {
        let p = try plan(["options": ["mount_program": "/usr/bin/fuse-overlayfs",
                                      "overlay": ["mountopt": "nodev,metacopy=on", "force_mask": "shared"],
                                      "pull_options": ["use_hard_links": "true"]]],
                         file: vendor)
        XCTAssertEqual(p.summaries, ["update /etc/containers/storage.conf: storage.options.mount_program, "
            + "storage.options.overlay.mountopt, storage.options.overlay.force_mask, storage.options.pull_options.use_hard_links"])
        XCTAssertEqual(p.written, vendor
            .replacingOccurrences(of: "ostree_repos=\"\"}\n", with: "ostree_repos=\"\"}\nmount_program = \"/usr/bin/fuse-overlayfs\"\n")
            .replacingOccurrences(of: "use_hard_links = \"false\"", with: "use_hard_links = \"true\"")
            .replacingOccurrences(of: "mountopt = \"nodev\"\n", with: "mountopt = \"nodev,metacopy=on\"\nforce_mask = \"shared\"\n")
            .replacingOccurrences(of: "{enable_partial_images = \"false\", use_hard_links = \"true\", ostree_repos=\"\"}",
                                  with: "{ enable_partial_images = \"false\", use_hard_links = \"true\", ostree_repos = \"\" }"))
    }

    func testAMissingFileStartsFromTheVendorFile() throws {
        let p = try plan(["runroot": "/run/storage", "options": ["overlay": ["mountopt": "nodev,metacopy=on"]]],
                         file: nil, vendor: vendor)
        XCTAssertEqual(p.summaries, ["create /etc/containers/storage.conf: storage.runroot, storage.options.overlay.mountopt"])
        XCTAssertEqual(p.written, vendor
            .replacingOccurrences(of: "runroot = \"/run/containers/storage\"", with: "runroot = \"/run/storage\"")
            .replacingOccurrences(of: "mountopt = \"nodev\"", with: "mountopt = \"nodev,metacopy=on\""))
        XCTAssertEqual(p.result["seeded_from"], .string(vendorPath))
        XCTAssertEqual(p.changes.first?.diff?.before, "")

        // What the vendor file already says needs no /etc copy.
        let same = try plan(["driver": "overlay"], file: nil, vendor: vendor, store: store())
        XCTAssertFalse(same.isChanged)
    }

    /// Debian's podman without its recommended containers-storage has no vendor file: a file holding only
    /// the task's keys would stop podman ("graphroot must be set"), so containers-storage's defaults fill in.
    func testWithoutAVendorFileTheNewFileIsOnePodmanAccepts() throws {
        let header = StorageConfModule.header
        let runroot = try plan(["runroot": "/run/containers/storage"], file: nil)
        XCTAssertEqual(runroot.summaries, ["create /etc/containers/storage.conf: storage.runroot, storage.graphroot (default)"])
        XCTAssertEqual(runroot.written, header + "\n[storage]\nrunroot = \"/run/containers/storage\"\n"
            + "graphroot = \"/var/lib/containers/storage\"\n")
        XCTAssertNil(runroot.result["seeded_from"])

        let driver = try plan(["driver": "vfs"], file: nil, store: fresh(root))
        XCTAssertNil(driver.failure)
        XCTAssertEqual(driver.written, header + "\n[storage]\ndriver = \"vfs\"\nrunroot = \"/run/containers/storage\"\n"
            + "graphroot = \"/var/lib/containers/storage\"\n")

        let options = try plan(["options": ["overlay": ["mountopt": "nodev"]]], file: nil)
        XCTAssertEqual(options.summaries, ["create /etc/containers/storage.conf: storage.options.overlay.mountopt, "
            + "storage.runroot (default), storage.graphroot (default)"])
        XCTAssertEqual(try TOMLEditor(text: options.written ?? "").value("graphroot", in: ["storage"]), .string(root))

        // Written once, the file is complete: the next run changes nothing; nothing to set creates nothing.
        XCTAssertFalse(try plan(["runroot": "/run/containers/storage"], file: runroot.written).isChanged)
        XCTAssertFalse(try plan(["options": ["overlay": ["mountopt": "nodev"]]], file: options.written).isChanged)
        XCTAssertFalse(try plan([:], file: nil).isChanged)
    }

    /// A file that podman already refuses (as an older run of this module left it) is completed, even
    /// when the task's own keys are already there.
    func testAFileWithoutRunrootOrGraphrootIsCompleted() throws {
        let old = "# from an older setup\n[storage]\nrunroot = \"/run/containers/storage\"\n"
        let p = try plan(["runroot": "/run/containers/storage"], file: old)
        XCTAssertEqual(p.summaries, ["update /etc/containers/storage.conf: storage.graphroot (default)"])
        XCTAssertEqual(p.written, old + "graphroot = \"/var/lib/containers/storage\"\n")
        let empty = try plan(["graphroot": "/srv/containers"], file: "[storage]\nrunroot = \"\"\n", store: fresh(root, "/srv/containers"))
        XCTAssertEqual(empty.written, "[storage]\nrunroot = \"/run/containers/storage\"\ngraphroot = \"/srv/containers\"\n")
        // A user's file is not filled in: containers-storage fills in the rootless defaults itself.
        let module = try ModuleFixture.make(StorageConfModule.self, ["user": "alice", "runroot": "/run/user/1000/containers"])
        let user = try ModuleFixture.plan(module, commands: [module.file.userProbe("alice"): ModuleFixture.ok(passwd + "dir\nmissing\n")])
        XCTAssertEqual(user.written, "[storage]\nrunroot = \"/run/user/1000/containers\"\n")
    }

    func testMovingGraphrootIsRefusedWhileTheStoreHoldsContainersOrImages() throws {
        let p = try plan(["graphroot": "/srv/containers/"], file: vendor, store: store(containers: 2, images: 1))
        XCTAssertFalse(p.isChanged)
        XCTAssertEqual(p.failure, "moving graphroot from /var/lib/containers/storage to /srv/containers would hide the "
            + "2 containers and 1 image in /var/lib/containers/storage from podman. To proceed: remove them (podman system "
            + "reset; podman save/export what you need first), or move the store yourself with podman stopped, or set "
            + "allow_reset: true to start from an empty store (nothing is deleted)")
        XCTAssertEqual(p.result, ValueDict())
        // Every driver's store in the old graphroot counts.
        let two = ModuleFixture.ok("DIR \(root)\nSTORE \(root) overlay 0 0\nSTORE \(root) vfs 1 0\n")
        XCTAssertEqual(try plan(["graphroot": "/srv/containers"], file: vendor, store: two).failure?
            .hasPrefix("moving graphroot from \(root) to /srv/containers would hide the 1 container and 0 images"), true)
    }

    func testAllowResetGoesAheadAndDeletesNothing() throws {
        let p = try plan(["graphroot": "/srv/containers", "allow_reset": true], file: vendor, store: store(containers: 2, images: 1))
        XCTAssertNil(p.failure)
        XCTAssertEqual(p.summaries, ["update /etc/containers/storage.conf: storage.graphroot "
            + "(allow_reset: the 2 containers and 1 image stay in /var/lib/containers/storage)"])
        XCTAssertEqual(p.actions.count, 1)
        XCTAssertFalse(p.actions.contains { if case .remove = $0 { return true } else { return false } })
        XCTAssertEqual(p.result["store"], ["graphroot": "/var/lib/containers/storage", "drivers": ["overlay"], "containers": 2,
                                           "images": 1, "database": "/var/lib/containers/storage/libpod/bolt_state.db"])
    }

    func testNoRefusalOnAFreshHost() throws {
        let p = try plan(["graphroot": "/srv/containers", "driver": "vfs"], file: vendor, store: fresh(root, "/srv/containers"))
        XCTAssertNil(p.failure)
        XCTAssertEqual(p.summaries, ["update /etc/containers/storage.conf: storage.driver, storage.graphroot"])
        XCTAssertEqual(p.result["store"], ["graphroot": .string(root), "drivers": [], "containers": 0, "images": 0, "database": nil])
    }

    func testMovingGraphrootAwayFromAnEmptyStoreIsAllowed() throws {
        // With or without podman's database: a new graphroot gets a new one.
        for database in [false, true] {
            let p = try plan(["graphroot": "/srv/containers"], file: vendor, store: store(database: database))
            XCTAssertNil(p.failure)
            XCTAssertEqual(p.summaries, ["update /etc/containers/storage.conf: storage.graphroot"])
        }
    }

    func testChangingTheDriverIsRefusedWithContainers() throws {
        let refused = try plan(["driver": "vfs"], file: vendor, store: store(containers: 1, database: false))
        XCTAssertEqual(refused.failure?.hasPrefix("changing the driver from overlay to vfs would hide the 1 container and 0 images "
            + "in /var/lib/containers/storage from podman."), true, refused.failure ?? "")
        // The new driver's own store stays visible.
        let own = ModuleFixture.ok("DIR \(root)\nSTORE \(root) overlay 0 0\nSTORE \(root) vfs 3 2\n")
        XCTAssertNil(try plan(["driver": "vfs"], file: vendor, store: own).failure)
    }

    func testChangingTheDriverOfAnEmptyStoreIsRefusedWhilePodmansDatabaseIsThere() throws {
        let refused = try plan(["driver": "vfs"], file: vendor, store: store())
        XCTAssertFalse(refused.isChanged)
        XCTAssertEqual(refused.failure, "changing the driver from overlay to vfs would not take effect: podman keeps using the "
            + "driver recorded in its database /var/lib/containers/storage/libpod/bolt_state.db until podman system reset, "
            + "although the store holds no containers or images. To proceed: run podman system reset first (it deletes the "
            + "empty store and the database), or set allow_reset: true to write the setting anyway (nothing is deleted)")
        // podman 5's database counts too.
        let sqlite = ModuleFixture.ok("DIR \(root)\nSTORE \(root) overlay 0 0\nDB \(root) db.sql\n")
        XCTAssertEqual(try plan(["driver": "vfs"], file: vendor, store: sqlite).failure?
            .contains("its database /var/lib/containers/storage/db.sql until"), true)

        let allowed = try plan(["driver": "vfs", "allow_reset": true], file: vendor, store: store())
        XCTAssertEqual(allowed.summaries, ["update /etc/containers/storage.conf: storage.driver (podman keeps using the driver "
            + "recorded in /var/lib/containers/storage/libpod/bolt_state.db until podman system reset)"])
        XCTAssertEqual(allowed.written, vendor.replacingOccurrences(of: "driver = \"overlay\"", with: "driver = \"vfs\""))

        // Without the database (only buildah used the store, or it was reset) the change takes effect.
        let noDatabase = try plan(["driver": "vfs"], file: vendor, store: store(database: false))
        XCTAssertNil(noDatabase.failure)
        XCTAssertEqual(noDatabase.summaries, ["update /etc/containers/storage.conf: storage.driver"])
    }

    func testADatabaseNextToContainersOfTheNewDriverWarnsThatResetDeletesThem() throws {
        let answer = ModuleFixture.ok("DIR \(root)\nSTORE \(root) overlay 0 0\nSTORE \(root) vfs 1 1\nDB \(root) libpod/bolt_state.db\n")
        let p = try plan(["driver": "vfs"], file: vendor, store: answer)
        XCTAssertEqual(p.failure?.contains("until podman system reset. To proceed: run podman system reset first (it deletes the "
            + "1 container and 1 image in /var/lib/containers/storage and the database; podman save/export what you need first)"),
                       true, p.failure ?? "")
    }

    func testAnUnsetDriverIsTheDriverOfTheStoreThere() throws {
        let unset = "[storage]\ngraphroot = \"/var/lib/containers/storage\"\n"
        XCTAssertNil(try plan(["driver": "overlay"], file: unset, store: store()).failure)
        XCTAssertEqual(try plan(["driver": "vfs"], file: unset, store: store()).failure?
            .hasPrefix("changing the driver from overlay to vfs would not take effect"), true)
        XCTAssertNil(try plan(["driver": "vfs"], file: unset, store: fresh(root)).failure)
    }

    func testAStoreThatCannotBeReadIsRefusedUnlessAllowed() throws {
        let failing = ModuleFixture.failed(1, "", "sh: 1: cannot open: Permission denied\n")
        let refused = try plan(["graphroot": "/srv/containers"], file: vendor, store: failing)
        XCTAssertEqual(refused.failure, "cannot tell whether moving graphroot from /var/lib/containers/storage to /srv/containers "
            + "would hide containers or images from podman (the probe of the store failed: sh: 1: cannot open: Permission "
            + "denied). Set allow_reset: true to write the setting anyway (nothing is deleted)")
        let allowed = try plan(["graphroot": "/srv/containers", "allow_reset": true], file: vendor, store: failing)
        XCTAssertEqual(allowed.summaries, ["update /etc/containers/storage.conf: storage.graphroot"])

        let unreadable = try plan(["driver": "vfs"], file: vendor, store: ModuleFixture.ok("UNREADABLE \(root)\n"))
        XCTAssertEqual(unreadable.failure?.hasPrefix("cannot tell whether changing the driver from overlay to vfs would hide "
            + "containers or images from podman (cannot read /var/lib/containers/storage)."), true, unreadable.failure ?? "")
        let garbled = try plan(["driver": "vfs"], file: vendor, store: ModuleFixture.ok("STORE \(root) overlay 1 1\n"))
        XCTAssertEqual(garbled.failure?.contains("(unexpected answer from the probe of the store: STORE"), true, garbled.failure ?? "")
    }

    func testAGraphrootTheProbeCannotReadFromTheFileIsRefusedUnlessAllowed() throws {
        // An escape sequence: the probe's sed skips the line, so it only inspected the default.
        let escaped = "[storage]\ndriver = \"overlay\"\ngraphroot = \"/srv/st\\u0061re\"\n"
        let refused = try plan(["driver": "vfs"], file: escaped, store: store())
        XCTAssertEqual(refused.failure, "cannot tell whether changing the driver from overlay to vfs would hide containers or "
            + "images from podman (graphroot /srv/stare was not found by the probe, which reads graphroot and "
            + "rootless_storage_path only as \"plain\" or 'literal' strings without escapes). Set allow_reset: true to write "
            + "the setting anyway (nothing is deleted)")
        XCTAssertEqual(try plan(["driver": "vfs", "allow_reset": true], file: escaped, store: store()).summaries,
                       ["update /etc/containers/storage.conf: storage.driver, storage.runroot (default)"])
    }

    func testTheProbeReadsTheConfigAndTheWantedGraphroot() throws {
        let module = try ModuleFixture.make(StorageConfModule.self, ["runroot": "/run/x"])
        XCTAssertFalse(module.observations(ModuleContext()).contains(.command(module.storeProbe)))
        let moving = try ModuleFixture.make(StorageConfModule.self, ["graphroot": "/x", "path": "/opt/storage.conf"])
        XCTAssertEqual(moving.storeProbe.suffix(5), ["", "/opt/storage.conf", root, "/x", vendorPath])
        XCTAssertFalse(moving.storeProbe.joined().contains("podman"))
        XCTAssertEqual(moving.observations(ModuleContext()), [
            .file(path: "/opt/storage.conf", content: true), .file(path: "/opt", content: false),
            .file(path: vendorPath, content: true), .command(moving.storeProbe),
        ])
    }

    func testTheProbesAnswerIsParsedWithSpacesInPaths() {
        let answer = "NONE /srv/new\nUNREADABLE /home/x\nDIR /srv/my store\nSTORE /srv/my store overlay 2 3\n"
            + "STORE /srv/my store vfs 0 1\nDB /srv/my store libpod/db.sql\n"
        XCTAssertEqual(ContainersStorageProbe.parse(answer), [
            "/srv/new": .absent, "/home/x": .unreadable,
            "/srv/my store": .present(stores: [.init(driver: "overlay", containers: 2, images: 3),
                                               .init(driver: "vfs", containers: 0, images: 1)],
                                      databases: ["libpod/db.sql"]),
        ])
        XCTAssertNil(ContainersStorageProbe.parse("STORE /srv overlay x 1\n"))
        XCTAssertNil(ContainersStorageProbe.parse("WHAT /srv\n"))
    }

    func testAFileThatDoesNotParseFails() throws {
        let p = try plan(["driver": "overlay"], file: "[storage]\ndriver = overlay\n", store: store())
        XCTAssertFalse(p.isChanged)
        XCTAssertEqual(p.failure?.hasPrefix("/etc/containers/storage.conf:2:10: "), true, p.failure ?? "")
        XCTAssertEqual(p.failure?.hasSuffix("; fix or remove the file"), true)
    }

    func testArgumentErrors() {
        XCTAssertThrowsError(try ModuleFixture.make(StorageConfModule.self, ["graphroot": "srv/containers"])) {
            XCTAssertEqual(($0 as? ModuleError)?.message,
                           "graphroot must be an absolute path (or start with $HOME in a user's file), not 'srv/containers'")
        }
        XCTAssertThrowsError(try ModuleFixture.make(StorageConfModule.self, ["path": "/x", "user": "alice"])) {
            XCTAssertEqual(($0 as? ModuleError)?.argument, "user")
        }
        XCTAssertThrowsError(try ModuleFixture.make(StorageConfModule.self, ["driver": "overlay2"])) {
            XCTAssertTrue("\($0)".contains("must be one of overlay, vfs"), "\($0)")
        }
        XCTAssertThrowsError(try ModuleFixture.make(StorageConfModule.self, ["options": ["size": nil]])) {
            XCTAssertEqual(($0 as? ModuleError)?.message, "options.size is null, which TOML cannot express; leave it out")
        }
    }

    private let passwd = "alice:x:1000:1000:Alice:/home/alice:/bin/bash\n"
    private let systemPath = "/etc/containers/storage.conf"

    func testUserScopeExpandsHomeAndStartsEmpty() throws {
        let module = try ModuleFixture.make(StorageConfModule.self, ["user": "alice", "graphroot": "$HOME/containers"])
        XCTAssertEqual(module.storeProbe.suffix(6), ["alice", "", "$HOME/.local/share/containers/storage", "$HOME/containers",
                                                     systemPath, vendorPath])
        XCTAssertEqual(module.observations(ModuleContext()), [
            .command(module.file.userProbe("alice")), .file(path: systemPath, content: true),
            .file(path: vendorPath, content: true), .command(module.storeProbe),
        ])
        let userProbe = module.file.userProbe("alice")
        let p = try ModuleFixture.plan(module, files: [vendorPath: ModuleFixture.file(vendor)], commands: [
            userProbe: ModuleFixture.ok(passwd + "dir\nmissing\n"),
            module.storeProbe: fresh("/home/alice/.local/share/containers/storage", "/home/alice/containers"),
        ])
        XCTAssertNil(p.failure)
        XCTAssertEqual(p.written, "[storage]\ngraphroot = \"$HOME/containers\"\n")
        XCTAssertEqual(p.actions.first, .writeFile(path: "/home/alice/.config/containers/storage.conf",
                                                   content: Array((p.written ?? "").utf8),
                                                   attributes: FileAttributes(mode: 0o644, owner: "alice", group: "1000"), backup: false))

        // ${HOME}/containers/ is where $HOME/containers already is: no move, whatever the store holds.
        let same = try ModuleFixture.make(StorageConfModule.self, ["user": "alice", "graphroot": "${HOME}/containers/"])
        let q = try ModuleFixture.plan(same, commands: [
            userProbe: ModuleFixture.ok(passwd + "dir\nregular file|644|alice|alice|1000|1000|0|0\n"
                + ContainersConfigFile.contentMarker + "\n" + (p.written ?? "")),
            same.storeProbe: store("/home/alice/containers", containers: 3),
        ])
        XCTAssertNil(q.failure)
        XCTAssertEqual(q.written, "[storage]\ngraphroot = \"${HOME}/containers/\"\n")
    }

    func testUserScopeStartsFromTheSystemRootlessStoragePath() throws {
        let module = try ModuleFixture.make(StorageConfModule.self, ["user": "alice", "driver": "vfs"])
        let system = "[storage]\ndriver = \"overlay\"\nrootless_storage_path = \"/srv/rootless/$USER-$UID\"\n"
        let p = try ModuleFixture.plan(module, files: [systemPath: ModuleFixture.file(system), vendorPath: ModuleFixture.file(vendor)],
                                       commands: [
            module.file.userProbe("alice"): ModuleFixture.ok(passwd + "dir\nmissing\n"),
            module.storeProbe: store("/srv/rootless/alice-1000", images: 1),
        ])
        XCTAssertEqual(p.failure?.hasPrefix("changing the driver from overlay to vfs would hide the 0 containers and 1 image in "
            + "/srv/rootless/alice-1000 from podman."), true, p.failure ?? "")
    }

    /// The real probe under /bin/sh on a store laid out as podman 4 leaves it; no podman needed.
    func testTheProbeReadsAStoreOnDiskAndChangesNothing() throws {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("provision-storage-probe-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: dir) }
        func write(_ relative: String, _ text: String) throws {
            let url = dir.appendingPathComponent(relative)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        let graph = dir.appendingPathComponent("graph root").path
        let conf = dir.appendingPathComponent("storage.conf").path
        try write("storage.conf", "[storage]\ndriver = \"overlay\"\ngraphroot = \"\(graph)/\" # the store\n")
        // Compact JSON as containers-storage writes it; metadata holds escaped JSON of its own.
        try write("graph root/overlay-containers/containers.json",
                  #"[{"id":"c1","names":["a"],"metadata":"{\"id\":\"x\",\"image-id\":\"i1\"}"},{"id":"c2","names":["b"]}]"#)
        try write("graph root/overlay-containers/volatile-containers.json", #"[{"id":"c3","names":["c"]}]"#)
        try write("graph root/overlay-images/images.json", #"[{"id":"i1","names":["localhost/a:latest"]}]"#)
        try write("graph root/libpod/bolt_state.db", "")
        func plan(_ arguments: KeyValuePairs<String, Value>) throws -> Plan {
            let module = try ModuleFixture.make(StorageConfModule.self, arguments)
            return try module.plan(try LocalTransport().observe(module.observations(ModuleContext())), ModuleContext())
        }
        func tree() throws -> [String] {
            try fm.subpathsOfDirectory(atPath: dir.path).sorted().map { path in
                let attributes = try fm.attributesOfItem(atPath: dir.appendingPathComponent(path).path)
                return "\(path) \(attributes[.modificationDate].map { "\($0)" } ?? "")"
            }
        }
        let before = try tree()

        let full = try plan(["path": .string(conf), "driver": "vfs"])
        XCTAssertEqual(full.failure?.hasPrefix("changing the driver from overlay to vfs would hide the 3 containers and 1 image "
            + "in \(graph) from podman."), true, full.failure ?? "")
        XCTAssertEqual(try tree(), before, "the probe changed the store")

        try write("graph root/overlay-containers/containers.json", "[]")
        try write("graph root/overlay-containers/volatile-containers.json", "[]")
        try write("graph root/overlay-images/images.json", "[]")
        let empty = try plan(["path": .string(conf), "driver": "vfs"])
        XCTAssertEqual(empty.failure?.hasPrefix("changing the driver from overlay to vfs would not take effect: podman keeps "
            + "using the driver recorded in its database \(graph)/libpod/bolt_state.db until podman system reset"), true,
                       empty.failure ?? "")

        try fm.removeItem(atPath: "\(graph)/libpod")
        let reset = try plan(["path": .string(conf), "driver": "vfs", "graphroot": .string(dir.appendingPathComponent("new").path)])
        XCTAssertNil(reset.failure)
        XCTAssertEqual(reset.result["store"], ["graphroot": .string(graph), "drivers": ["overlay"], "containers": 0, "images": 0,
                                               "database": nil])
    }
}
