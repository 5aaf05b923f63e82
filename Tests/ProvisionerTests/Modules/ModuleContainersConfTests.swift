import XCTest
@testable import Modules
@testable import Provisioner

final class ModuleContainersConfTests: XCTestCase {
    private let path = "/etc/containers/containers.conf"

    private let existing = """
        # Local podman settings.
        [containers]
        # Keep the host's limits small.
        default_ulimits = [
          "nofile=4096:4096",
        ]
        log_driver = "k8s-file"

        [engine]
        runtime = "crun"   # the fast one
        events_logger = "file"

        """

    private let settings: Value = [
        "engine": ["runtime": "runc", "cgroup_manager": "cgroupfs"],
        "engine.runtimes": ["crun": ["/usr/local/libexec/crun-nohybrid/crun", "/usr/bin/crun"]],
        "containers": ["default_ulimits": ["nofile=1024:1024"], "cgroups": "disabled", "pids_limit": 2048],
        "network": ["default_subnet": "10.90.0.0/16"],
    ]

    /// `dropIns`: (path, text) files of /etc/containers/containers.conf.d, as its probe lists them.
    private func plan(_ arguments: KeyValuePairs<String, Value>, file text: String?, dropIns: [(String, String)] = [],
                      line: UInt = #line) throws -> Plan {
        let module = try ModuleFixture.make(ContainersConfModule.self, arguments)
        var files = ["/etc/containers": ModuleFixture.directory()]
        if let text { files[path] = ModuleFixture.file(text) }
        let listing = ModuleFixture.ok(dropIns.map { "FILE \($0.1.utf8.count) \($0.0)\n\($0.1)" }.joined())
        return try ModuleFixture.plan(module, files: files, commands: [ContainersConfModule.dropInProbe: listing], line: line)
    }

    /// podman 5 reads /etc/containers/containers.conf.d after containers.conf: a drop-in there that sets a key
    /// the task sets, otherwise, or one it removes, would win, so the task fails and names it.
    func testADropInThatOverridesAKeyFailsTheTask() throws {
        let dropIn = "/etc/containers/containers.conf.d/50-old.conf"
        let old = "[engine]\nevents_logger = \"journald\"\n\n[engine.runtimes]\ncrun = [\"/usr/bin/crun\"]\n"
        let logger = try plan(["settings": ["engine": ["events_logger": "file"]]], file: nil, dropIns: [(dropIn, old)])
        XCTAssertFalse(logger.isChanged)
        XCTAssertEqual(logger.failure, "\(dropIn) sets engine.events_logger too, and podman reads it after "
            + "/etc/containers/containers.conf, so its value would be the one in effect. Remove it from \(dropIn), or edit that "
            + "file instead (path: \(dropIn))")
        let nested = try plan(["settings": ["engine.runtimes": ["crun": ["/usr/local/bin/crun"]]]], file: nil, dropIns: [(dropIn, old)])
        XCTAssertEqual(nested.failure?.hasPrefix("\(dropIn) sets engine.runtimes.crun too"), true, nested.failure ?? "")
        let removal = try plan(["remove": ["engine.events_logger"]], file: "[engine]\nevents_logger = \"file\"\n", dropIns: [(dropIn, old)])
        XCTAssertEqual(removal.failure?.contains("so removing it here would change nothing"), true, removal.failure ?? "")
        // The same value there, other keys, or a later drop-in that sets it back: no conflict.
        let back = "/etc/containers/containers.conf.d/90-back.conf"
        XCTAssertNil(try plan(["settings": ["engine": ["events_logger": "journald", "runtime": "crun"]]], file: nil,
                              dropIns: [(dropIn, old)]).failure)
        XCTAssertNil(try plan(["settings": ["engine": ["events_logger": "file"]]], file: nil,
                              dropIns: [(dropIn, old), (back, "[engine]\nevents_logger = \"file\"\n")]).failure)
        // A given path, or a user's file, has no drop-ins read after it here.
        let other = try ModuleFixture.make(ContainersConfModule.self, ["path": "/srv/containers.conf", "settings": ["engine": ["runtime": "crun"]]])
        XCTAssertFalse(other.observations(ModuleContext()).contains(.command(ContainersConfModule.dropInProbe)))
    }

    func testSettingsAreEditedInPlaceWithNestedTables() throws {
        let p = try plan(["settings": settings], file: existing)
        XCTAssertEqual(p.summaries, ["update /etc/containers/containers.conf: engine.runtime, engine.cgroup_manager, "
            + "engine.runtimes.crun, containers.default_ulimits, containers.cgroups, containers.pids_limit, network.default_subnet"])
        XCTAssertEqual(p.written, """
            # Local podman settings.
            [containers]
            # Keep the host's limits small.
            default_ulimits = ["nofile=1024:1024"]
            log_driver = "k8s-file"
            cgroups = "disabled"
            pids_limit = 2048

            [engine]
            runtime = "runc"   # the fast one
            events_logger = "file"
            cgroup_manager = "cgroupfs"

            [engine.runtimes]
            crun = ["/usr/local/libexec/crun-nohybrid/crun", "/usr/bin/crun"]

            [network]
            default_subnet = "10.90.0.0/16"

            """)
        XCTAssertFalse(try plan(["settings": settings], file: p.written).isChanged)
    }

    func testAMissingFileStartsEmpty() throws {
        let p = try plan(["settings": ["engine": ["runtime": "runc"], "engine.runtimes": ["runc": ["/usr/bin/runc"]]]], file: nil)
        XCTAssertEqual(p.summaries, ["create /etc/containers/containers.conf: engine.runtime, engine.runtimes.runc"])
        XCTAssertEqual(p.written, "[engine]\nruntime = \"runc\"\n\n[engine.runtimes]\nrunc = [\"/usr/bin/runc\"]\n")
        XCTAssertEqual(p.actions.last, .writeFile(path: path, content: Array((p.written ?? "").utf8),
                                                  attributes: FileAttributes(mode: 0o644), backup: false))
        // Nothing to set, nothing to remove: no file.
        XCTAssertFalse(try plan(["remove": ["engine.runtime"]], file: nil).isChanged)
    }

    func testAMissingDirectoryIsCreated() throws {
        let module = try ModuleFixture.make(ContainersConfModule.self, ["settings": ["engine": ["runtime": "runc"]]])
        let p = try ModuleFixture.plan(module, commands: [ContainersConfModule.dropInProbe: ModuleFixture.ok("")])
        XCTAssertEqual(p.summaries, ["create directory /etc/containers", "create /etc/containers/containers.conf: engine.runtime"])
        XCTAssertEqual(p.actions.first, .makeDirectory(path: "/etc/containers", attributes: FileAttributes(mode: 0o755)))
    }

    func testRemovingKeys() throws {
        let p = try plan(["remove": ["engine.runtime", "containers.default_ulimits", "engine.nothing", "no.such.table"]],
                         file: existing)
        XCTAssertEqual(p.summaries, ["update /etc/containers/containers.conf: engine.runtime removed, containers.default_ulimits removed"])
        XCTAssertEqual(p.written, existing
            .replacingOccurrences(of: "default_ulimits = [\n  \"nofile=4096:4096\",\n]\n", with: "")
            .replacingOccurrences(of: "runtime = \"crun\"   # the fast one\n", with: ""))
    }

    func testUserScopeWritesTheUsersFileOwnedByThem() throws {
        let module = try ModuleFixture.make(ContainersConfModule.self, ["user": "alice", "settings": ["engine": ["runtime": "crun"]]])
        let probe = module.file.userProbe("alice")
        XCTAssertEqual(module.observations(ModuleContext()), [.command(probe)])
        XCTAssertEqual(Array(probe.suffix(3)), ["alice", "containers.conf", HostProbes.statFormat])
        let passwd = "alice:x:1001:1002:Alice,,,:/home/alice:/bin/bash\n"

        let missing = try ModuleFixture.plan(module, commands: [probe: ModuleFixture.ok(passwd + "nodir\nmissing\n")])
        let owner = FileAttributes(owner: "alice", group: "1002")
        XCTAssertEqual(missing.actions, [
            .makeDirectory(path: "/home/alice/.config/containers", attributes: FileAttributes(mode: 0o700, owner: "alice", group: "1002")),
            .writeFile(path: "/home/alice/.config/containers/containers.conf", content: Array("[engine]\nruntime = \"crun\"\n".utf8),
                       attributes: FileAttributes(mode: 0o644, owner: "alice", group: "1002"), backup: false),
        ])

        // The right content owned by root: only the owner changes.
        let text = "# mine\n[engine]\nruntime = \"crun\"\n"
        let stat = "regular file|644|root|root|0|0|1700000000|1700000000"
        let rootOwned = try ModuleFixture.plan(module, commands: [
            probe: ModuleFixture.ok(passwd + "dir\n\(stat)\n\(ContainersConfigFile.contentMarker)\n" + text),
        ])
        XCTAssertEqual(rootOwned.summaries, ["owner of /home/alice/.config/containers/containers.conf: root -> alice"])
        XCTAssertEqual(rootOwned.actions, [.setAttributes(path: "/home/alice/.config/containers/containers.conf", attributes: owner)])

        // Its own file, other content: the bytes read through the probe are edited in place.
        let own = try ModuleFixture.plan(module, commands: [
            probe: ModuleFixture.ok(passwd + "dir\nregular file|600|alice|alice|1001|1002|0|0\n\(ContainersConfigFile.contentMarker)\n"
                + text.replacingOccurrences(of: "crun", with: "runc")),
        ])
        XCTAssertEqual(own.changes.first?.diff, TextDiff(label: "/home/alice/.config/containers/containers.conf",
                                                         before: text.replacingOccurrences(of: "crun", with: "runc"), after: text))
    }

    func testUserScopeWithAMissingUser() throws {
        let module = try ModuleFixture.make(ContainersConfModule.self, ["user": "bob", "settings": ["engine": ["runtime": "crun"]]])
        let answer = [module.file.userProbe("bob"): ModuleFixture.failed(2)]
        XCTAssertEqual(try ModuleFixture.plan(module, commands: answer).failure,
                       "user bob does not exist; create it first (user module), or give path instead")
        // In check mode the task creating the user has not run: show what would be written.
        let check = try ModuleFixture.plan(module, commands: answer, context: ModuleContext(checkMode: true))
        XCTAssertEqual(check.summaries, ["create directory ~bob/.config/containers", "create ~bob/.config/containers/containers.conf: engine.runtime"])
        XCTAssertEqual(check.written, "[engine]\nruntime = \"crun\"\n")
    }

    func testUserScopeRefusesALink() throws {
        let module = try ModuleFixture.make(ContainersConfModule.self, ["user": "alice", "settings": ["engine": ["runtime": "crun"]]])
        let p = try ModuleFixture.plan(module, commands: [module.file.userProbe("alice"): ModuleFixture.ok(
            "alice:x:1001:1002::/home/alice:/bin/sh\ndir\nsymbolic link|777|alice|alice|1001|1002|0|0\n")])
        XCTAssertEqual(p.failure, "/home/alice/.config/containers/containers.conf is a symbolic link; give the file it points to as path")
    }

    func testAFileThatDoesNotParseFails() throws {
        let p = try plan(["settings": ["engine": ["runtime": "runc"]]], file: "[engine]\nruntime = \"runc\"\n[engine]\n")
        XCTAssertFalse(p.isChanged)
        XCTAssertEqual(p.failure?.hasPrefix("/etc/containers/containers.conf:3:2: "), true, p.failure ?? "")
        XCTAssertEqual(p.failure?.hasSuffix("; fix or remove the file"), true)
    }

    func testArgumentErrors() {
        func message(_ arguments: KeyValuePairs<String, Value>) -> String? {
            do {
                _ = try ModuleFixture.make(ContainersConfModule.self, arguments)
                return nil
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(message(["settings": ["engine": "runc"]]),
                       "settings.engine must be a mapping of key -> value (a table of containers.conf), not str \"runc\"")
        XCTAssertEqual(message(["settings": ["engine..x": ["a": 1]]]), "'engine..x' is not a table name: its parts must not be empty")
        XCTAssertEqual(message(["remove": ["runtime"]]), "remove entries are table.key (e.g. engine.runtime), not 'runtime'")
        XCTAssertEqual(message(["settings": ["engine": ["runtime": "runc"]], "remove": ["engine.runtime"]]),
                       "engine.runtime is both set in settings and listed in remove")
        XCTAssertEqual(message(["settings": ["engine": ["env": [nil]]]]),
                       "engine.env[0] is null, which TOML cannot express; leave it out")
        XCTAssertEqual(message(["user": "a:b"]), "'a:b' is not a valid user name")
        XCTAssertEqual(message(["user": "root"]), "podman running as root does not read ~root/.config/containers/containers.conf "
            + "(only rootless podman reads a user's file); leave user out to edit /etc/containers/containers.conf")
        XCTAssertEqual(message(["path": "containers.conf"]), "path must be absolute, not 'containers.conf'")
    }
}
