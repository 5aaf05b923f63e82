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

    private func store(_ graphRoot: String = "/var/lib/containers/storage", _ driver: String = "overlay",
                       containers: Int = 0, images: Int = 0) -> CommandOutput {
        ModuleFixture.ok("\(graphRoot)|\(driver)|\(containers)|\(images)\n")
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
        // Without a vendor file the new file holds just the keys.
        let bare = try plan(["driver": "vfs"], file: nil, store: store("/var/lib/containers/storage", "vfs"))
        XCTAssertEqual(bare.written, "[storage]\ndriver = \"vfs\"\n")
    }

    func testMovingGraphrootIsRefusedWhileTheStoreHoldsContainersOrImages() throws {
        let p = try plan(["graphroot": "/srv/containers/"], file: vendor, store: store(containers: 2, images: 1))
        XCTAssertFalse(p.isChanged)
        XCTAssertEqual(p.failure, "moving graphroot from /var/lib/containers/storage to /srv/containers would hide the "
            + "2 containers and 1 image in /var/lib/containers/storage from podman. To proceed: remove them (podman system "
            + "reset; podman save/export what you need first), or move the store yourself with podman stopped, or set "
            + "allow_reset: true to start from an empty store (nothing is deleted)")
        XCTAssertEqual(p.result, ValueDict())
    }

    func testAllowResetGoesAheadAndDeletesNothing() throws {
        let p = try plan(["graphroot": "/srv/containers", "allow_reset": true], file: vendor, store: store(containers: 2, images: 1))
        XCTAssertNil(p.failure)
        XCTAssertEqual(p.summaries, ["update /etc/containers/storage.conf: storage.graphroot "
            + "(allow_reset: the 2 containers and 1 image stay in /var/lib/containers/storage)"])
        XCTAssertEqual(p.actions.count, 1)
        XCTAssertFalse(p.actions.contains { if case .remove = $0 { return true } else { return false } })
        XCTAssertEqual(p.result["store"], ["graphroot": "/var/lib/containers/storage", "driver": "overlay", "containers": 2, "images": 1])
    }

    func testNoRefusalWhenTheStoreIsEmptyOrPodmanIsMissing() throws {
        for answer in [store(), ModuleFixture.ok("")] {
            let p = try plan(["graphroot": "/srv/containers", "driver": "overlay"], file: vendor, store: answer)
            XCTAssertNil(p.failure)
            XCTAssertEqual(p.summaries, ["update /etc/containers/storage.conf: storage.graphroot"])
        }
        // Warnings on stderr do not matter; the last line of output does.
        let noisy = try plan(["graphroot": "/srv/containers"], file: vendor,
                             store: CommandOutput(status: 0, stdout: "/var/lib/containers/storage|overlay|0|0\n", stderr: "WARN[0000] x\n"))
        XCTAssertNil(noisy.failure)
    }

    func testChangingTheDriverIsRefusedWithContainersAndNotedWithout() throws {
        let refused = try plan(["driver": "vfs"], file: vendor, store: store(containers: 1))
        XCTAssertEqual(refused.failure?.hasPrefix("changing the driver from overlay to vfs would hide the 1 container and 0 images "
            + "in /var/lib/containers/storage from podman."), true, refused.failure ?? "")

        let empty = try plan(["driver": "vfs"], file: vendor, store: store())
        XCTAssertEqual(empty.summaries, ["update /etc/containers/storage.conf: storage.driver "
            + "(podman keeps using overlay, recorded in its database, until podman system reset)"])
        XCTAssertEqual(empty.written, vendor.replacingOccurrences(of: "driver = \"overlay\"", with: "driver = \"vfs\""))
    }

    func testAStoreThatCannotBeReadIsRefusedUnlessAllowed() throws {
        let failing = CommandOutput(status: 125, stdout: "", stderr: "Error: database is locked\n")
        let refused = try plan(["graphroot": "/srv/containers"], file: vendor, store: failing)
        XCTAssertEqual(refused.failure, "cannot tell whether moving graphroot to /srv/containers would hide containers or images "
            + "from podman (podman info failed: Error: database is locked). Fix podman, or set allow_reset: true to write "
            + "the setting anyway (nothing is deleted)")
        let allowed = try plan(["graphroot": "/srv/containers", "allow_reset": true], file: vendor, store: failing)
        XCTAssertEqual(allowed.summaries, ["update /etc/containers/storage.conf: storage.graphroot"])
    }

    func testOnlyDriverAndGraphrootAskPodman() throws {
        let module = try ModuleFixture.make(StorageConfModule.self, ["runroot": "/run/x"])
        XCTAssertFalse(module.observations(ModuleContext()).contains(.command(module.storeProbe)))
        let moving = try ModuleFixture.make(StorageConfModule.self, ["graphroot": "/x", "path": "/opt/storage.conf"])
        XCTAssertEqual(moving.storeProbe.suffix(3), ["", "/opt/storage.conf", StorageConfModule.storeFormat])
        XCTAssertEqual(moving.observations(ModuleContext()), [
            .file(path: "/opt/storage.conf", content: true), .file(path: "/opt", content: false),
            .file(path: vendorPath, content: true), .command(moving.storeProbe),
        ])
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

    func testUserScopeReadsTheStoreAsTheUserAndStartsEmpty() throws {
        let module = try ModuleFixture.make(StorageConfModule.self, ["user": "alice", "graphroot": "$HOME/containers"])
        XCTAssertEqual(module.storeProbe.suffix(3), ["alice", "", StorageConfModule.storeFormat])
        XCTAssertEqual(module.observations(ModuleContext()), [.command(module.file.userProbe("alice")), .command(module.storeProbe)])
        let passwd = "alice:x:1000:1000:Alice:/home/alice:/bin/bash\n"
        let p = try ModuleFixture.plan(module, commands: [
            module.file.userProbe("alice"): ModuleFixture.ok(passwd + "dir\nmissing\n"),
            module.storeProbe: store("/home/alice/containers", "overlay", containers: 3),
        ])
        // $HOME expands to the same place podman reports: no move.
        XCTAssertNil(p.failure)
        XCTAssertEqual(p.written, "[storage]\ngraphroot = \"$HOME/containers\"\n")
        XCTAssertEqual(p.actions.first, .writeFile(path: "/home/alice/.config/containers/storage.conf",
                                                   content: Array((p.written ?? "").utf8),
                                                   attributes: FileAttributes(mode: 0o644, owner: "alice", group: "1000"), backup: false))
    }
}
