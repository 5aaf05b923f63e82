import XCTest
@testable import Modules
@testable import Provisioner

final class ModuleFileTests: XCTestCase {
    typealias F = ModuleFixture

    func file(_ arguments: KeyValuePairs<String, Value>) throws -> FileModule { try F.make(FileModule.self, arguments) }

    func stat(_ path: String, follow: Bool = true) -> [String] { HostProbes.stat(path, follow: follow).argv }

    // MARK: Directories

    func testConvergedDirectoryIsNoChange() throws {
        let plan = try F.plan(try file(["path": "/srv/app", "state": "directory", "mode": "0755", "owner": "root"]),
                              files: ["/srv/app": F.directory()])
        XCTAssertFalse(plan.isChanged)
        XCTAssertEqual(plan.result["state"], "directory")
        XCTAssertEqual(plan.result["mode"], "0755")
    }

    func testMissingDirectoryIsCreatedWithItsAttributes() throws {
        let plan = try F.plan(try file(["path": "/srv/app", "state": "directory", "mode": "0750", "owner": "app", "group": "app"]))
        XCTAssertEqual(plan.summaries, ["create directory /srv/app (mode 0750, owner app, group app)"])
        XCTAssertEqual(plan.actions, [.makeDirectory(path: "/srv/app", attributes: FileAttributes(mode: 0o750, owner: "app", group: "app"))])
        XCTAssertEqual(plan.changes.first?.diff, TextDiff(label: "/srv/app", before: "path: /srv/app\nstate: absent\n",
                                                          after: "path: /srv/app\nstate: directory\n"))
    }

    func testModeChangesAlone() throws {
        let plan = try F.plan(try file(["path": "/d", "state": "directory", "mode": "0700", "owner": "root"]), files: ["/d": F.directory()])
        XCTAssertEqual(plan.summaries, ["mode of /d: 0755 -> 0700"])
        XCTAssertEqual(plan.actions, [.setAttributes(path: "/d", attributes: FileAttributes(mode: 0o700))])
        XCTAssertEqual(plan.changes.first?.diff, TextDiff(label: "/d (file attributes)", before: "mode: 0755\n", after: "mode: 0700\n"))
    }

    func testOwnerAndGroupChangeAlone() throws {
        let plan = try F.plan(try file(["path": "/d", "state": "directory", "mode": "0755", "owner": "app", "group": "root"]),
                              files: ["/d": F.directory()])
        XCTAssertEqual(plan.summaries, ["owner root -> app on /d"])
        XCTAssertEqual(plan.actions, [.setAttributes(path: "/d", attributes: FileAttributes(owner: "app"))])
    }

    func testNumericOwnerIsComparedByName() throws {
        let module = try file(["path": "/d", "state": "directory", "owner": "0", "group": "1000"])
        let plan = try F.plan(module, files: ["/d": F.directory(group: "staff")],
                              commands: [["getent", "passwd", "0"]: F.ok("root:x:0:0:root:/root:/bin/bash\n"),
                                         ["getent", "group", "1000"]: F.ok("staff:x:1000:\n")])
        XCTAssertFalse(plan.isChanged)
        let other = try F.plan(module, files: ["/d": F.directory(group: "users")],
                               commands: [["getent", "passwd", "0"]: F.ok("root:x:0:0:root:/root:/bin/bash\n"),
                                          ["getent", "group", "1000"]: F.ok("staff:x:1000:\n")])
        XCTAssertEqual(other.actions, [.setAttributes(path: "/d", attributes: FileAttributes(group: "1000"))])
    }

    func testSymbolicModeBuildsOnTheCurrentBits() throws {
        let plan = try F.plan(try file(["path": "/f", "mode": "u+x,g-r"]), files: ["/f": F.file("")])
        XCTAssertEqual(plan.actions, [.setAttributes(path: "/f", attributes: FileAttributes(mode: 0o704))])
        let again = try F.plan(try file(["path": "/f", "mode": "u+x,g-r"]), files: ["/f": F.file("", mode: 0o704)])
        XCTAssertFalse(again.isChanged)
    }

    func testDirectoryStateOverAFileFails() throws {
        let plan = try F.plan(try file(["path": "/d", "state": "directory"]), files: ["/d": F.file("x")])
        XCTAssertEqual(plan.failure, "/d already exists as a file")
    }

    func testRecurseConvergesTheTree() throws {
        let module = try file(["path": "/srv", "state": "directory", "recurse": true, "owner": "app", "mode": "u=rwX,g=rX,o="])
        let listing = "d\t755\tapp\troot\t/srv/sub\0f\t640\tapp\troot\t/srv/sub/ok\0f\t644\troot\troot\t/srv/bad\0l\t777\troot\troot\t/srv/link\0"
        let plan = try F.plan(module, files: ["/srv": F.directory(mode: 0o750, owner: "app")],
                              commands: [HostProbes.tree("/srv", follow: true).argv: F.ok(listing)])
        XCTAssertEqual(plan.summaries, ["mode u=rwX,g=rX,o=, owner app on 4 paths below /srv"])
        XCTAssertEqual(plan.actions, [
            .setAttributes(path: "/srv/sub", attributes: FileAttributes(mode: 0o750)),
            .setAttributes(path: "/srv/bad", attributes: FileAttributes(mode: 0o640)),
            .setAttributes(path: "/srv/bad", attributes: FileAttributes(owner: "app")),
            .setAttributes(path: "/srv/link", attributes: FileAttributes(owner: "app")),
        ])
    }

    func testMissingPathWithRecurseDefaultsToDirectory() throws {
        let plan = try F.plan(try file(["path": "/new", "recurse": true, "mode": "0700"]))
        XCTAssertEqual(plan.actions, [.makeDirectory(path: "/new", attributes: FileAttributes(mode: 0o700))])
    }

    // MARK: state: file and the default state

    func testFileStateOnlyAssertsExistence() throws {
        XCTAssertEqual(try F.plan(try file(["path": "/f", "state": "file"])).failure, "file (/f) is absent, cannot continue")
        XCTAssertEqual(try F.plan(try file(["path": "/f"])).failure, "file (/f) is absent, cannot continue")
        XCTAssertEqual(try F.plan(try file(["path": "/f", "state": "file"]), files: ["/f": F.directory()]).failure,
                       "file (/f) is directory, cannot continue")
        XCTAssertFalse(try F.plan(try file(["path": "/f", "state": "file", "mode": "0644"]), files: ["/f": F.file("x")]).isChanged)
    }

    func testDefaultStateIsWhatThePathIs() throws {
        let plan = try F.plan(try file(["path": "/d", "mode": "0700"]), files: ["/d": F.directory()])
        XCTAssertEqual(plan.result["state"], "directory")
        XCTAssertEqual(plan.actions, [.setAttributes(path: "/d", attributes: FileAttributes(mode: 0o700))])
    }

    func testAttributesGoThroughAFollowedLink() throws {
        let module = try file(["path": "/etc/alias", "mode": "0600", "owner": "app"])
        let plan = try F.plan(module, files: ["/etc/alias": F.link(to: "real")],
                              targets: ["/etc/alias": F.file("x")])
        XCTAssertEqual(plan.actions, [.run(Command(["chmod", "0600", "--", "/etc/alias"])),
                                      .run(Command(["chown", "app", "--", "/etc/alias"]))])
        let dangling = try F.plan(try file(["path": "/etc/alias", "state": "file"]), files: ["/etc/alias": F.link(to: "gone")],
                                  targets: [:])
        XCTAssertEqual(dangling.failure, "file (/etc/alias) is absent, cannot continue")
    }

    // MARK: absent

    func testAbsent() throws {
        let plan = try F.plan(try file(["path": "/tmp/x", "state": "absent"]), files: ["/tmp/x": F.directory()])
        XCTAssertEqual(plan.summaries, ["remove directory /tmp/x"])
        XCTAssertEqual(plan.actions, [.remove(path: "/tmp/x")])
        XCTAssertFalse(try F.plan(try file(["path": "/tmp/x", "state": "absent"])).isChanged)
    }

    // MARK: touch and times

    func testTouchCreatesOrSetsTimesToNow() throws {
        let created = try F.plan(try file(["path": "/f", "state": "touch", "mode": "0640"]))
        XCTAssertEqual(created.actions, [.writeFile(path: "/f", content: [], attributes: FileAttributes(mode: 0o640), backup: false)])
        let touched = try F.plan(try file(["path": "/f", "state": "touch"]), files: ["/f": F.file("x")])
        XCTAssertEqual(touched.summaries, ["set times of /f to now"])
        XCTAssertEqual(touched.actions, [.touch(path: "/f")])
    }

    func testTouchWithPreservedTimesOnlyCreates() throws {
        let module = try file(["path": "/f", "state": "touch", "modification_time": "preserve", "access_time": "preserve"])
        XCTAssertEqual(try F.plan(module).actions, [.writeFile(path: "/f", content: [], attributes: FileAttributes(), backup: false)])
        XCTAssertFalse(try F.plan(module, files: ["/f": F.file("x")]).isChanged)
    }

    func testExplicitModificationTime() throws {
        let module = try file(["path": "/f", "modification_time": "202401021530.45"])
        let epoch = ["date", "-d", "2024-01-02 15:30:45", "+%s"]
        let probe = stat("/f")
        let same = try F.plan(module, files: ["/f": F.file("x", modified: 1_704_209_445)],
                              commands: [epoch: F.ok("1704209445\n"), probe: F.ok("regular file|644|root|root|0|0|1|1704209445\n")])
        XCTAssertFalse(same.isChanged)
        let other = try F.plan(module, files: ["/f": F.file("x", modified: 1_000)],
                               commands: [epoch: F.ok("1704209445\n"), probe: F.ok("regular file|644|root|root|0|0|1|1000\n")])
        XCTAssertEqual(other.summaries, ["set modification time 2024-01-02 15:30:45 of /f"])
        XCTAssertEqual(other.actions, [.run(Command(["touch", "-c", "-m", "-d", "@1704209445", "--", "/f"]))])
    }

    func testTimeFormats() {
        XCTAssertEqual(Timestamp.parse("202401021530.45", format: "%Y%m%d%H%M.%S"), "2024-01-02 15:30:45")
        XCTAssertEqual(Timestamp.parse("2024-1-2 7:05", format: "%Y-%m-%d %H:%M"), "2024-01-02 07:05:00")
        XCTAssertNil(Timestamp.parse("2024-13-02", format: "%Y-%m-%d"))
        XCTAssertThrowsError(try file(["path": "/f", "access_time": "yesterday"])) { error in
            XCTAssertEqual((error as? ModuleError)?.argument, "access_time")
        }
    }

    // MARK: Links

    func testNewSymbolicLink() throws {
        let module = try file(["path": "/usr/local/bin/tool", "state": "link", "src": "/opt/tool/bin/tool"])
        let plan = try F.plan(module, files: ["/opt/tool/bin/tool": F.file("")])
        XCTAssertEqual(plan.summaries, ["link /usr/local/bin/tool -> /opt/tool/bin/tool"])
        XCTAssertEqual(plan.actions, [.symlink(path: "/usr/local/bin/tool", target: "/opt/tool/bin/tool")])
        XCTAssertEqual(plan.result["src"], "/opt/tool/bin/tool")
    }

    func testAttributesOfANewLinkGoToItsTarget() throws {
        let plan = try F.plan(try file(["path": "/l", "state": "link", "src": "/t", "mode": "0600"]), files: ["/t": F.file("")])
        XCTAssertEqual(plan.actions, [.symlink(path: "/l", target: "/t"), .run(Command(["chmod", "0600", "--", "/l"]))])
        let dangling = try F.plan(try file(["path": "/l", "state": "link", "src": "/t", "mode": "0600", "force": true]))
        XCTAssertEqual(dangling.actions, [.symlink(path: "/l", target: "/t")])
    }

    func testLinkToAMissingSourceNeedsForce() throws {
        let plan = try F.plan(try file(["path": "/l", "state": "link", "src": "missing"]))
        XCTAssertEqual(plan.failure, "src file does not exist, use 'force=yes' if you really want to create the link: /missing")
        let forced = try F.plan(try file(["path": "/l", "state": "link", "src": "missing", "force": true]))
        XCTAssertEqual(forced.actions, [.symlink(path: "/l", target: "missing")])
    }

    func testExistingLinkIsRetargetedOrLeftAlone() throws {
        let module = try file(["path": "/l", "state": "link", "src": "/b"])
        XCTAssertFalse(try F.plan(module, files: ["/l": F.link(to: "/b"), "/b": F.file("")]).isChanged)
        let retarget = try F.plan(module, files: ["/l": F.link(to: "/a"), "/b": F.file("")])
        XCTAssertEqual(retarget.actions, [.symlink(path: "/l", target: "/b")])
        XCTAssertEqual(retarget.changes.first?.diff, TextDiff(label: "/l", before: "state: link -> /a\n", after: "state: link -> /b\n"))
    }

    func testLinkOverFilesAndDirectories() throws {
        let module = try file(["path": "/l", "state": "link", "src": "/b"])
        XCTAssertEqual(try F.plan(module, files: ["/l": F.file("x"), "/b": F.file("")]).failure, "refusing to convert from file to symlink for /l")
        XCTAssertEqual(try F.plan(module, files: ["/l": F.directory(), "/b": F.file("")]).failure,
                       "refusing to convert from directory to symlink for /l")
        let forced = try file(["path": "/l", "state": "link", "src": "/b", "force": true])
        let empty = try F.plan(forced, files: ["/l": F.directory()], commands: [HostProbes.firstEntry("/l").argv: F.ok("")])
        XCTAssertEqual(empty.actions, [.remove(path: "/l"), .symlink(path: "/l", target: "/b")])
        let full = try F.plan(forced, files: ["/l": F.directory()], commands: [HostProbes.firstEntry("/l").argv: F.ok("/l/x\n")])
        XCTAssertEqual(full.failure, "the directory /l is not empty, refusing to convert it")
        XCTAssertEqual(try F.plan(forced, files: ["/l": F.file("x")]).actions, [.symlink(path: "/l", target: "/b")])
    }

    func testHardLink() throws {
        let module = try file(["path": "/h", "state": "hard", "src": "/s"])
        XCTAssertEqual(try F.plan(module).failure, "src does not exist")
        let create = try F.plan(module, files: ["/s": F.file("x")], commands: [HostProbes.identity("/s").argv: F.ok("1 2049:77\n")])
        XCTAssertEqual(create.actions, [.run(Command(["ln", "-L", "-f", "-T", "--", "/s", "/h"]))])
        let same = try F.plan(module, files: ["/s": F.file("x"), "/h": F.file("x")],
                              commands: [HostProbes.identity("/s").argv: F.ok("2 2049:77\n"), HostProbes.identity("/h").argv: F.ok("2 2049:77\n")])
        XCTAssertFalse(same.isChanged)
        let other = try F.plan(module, files: ["/s": F.file("x"), "/h": F.file("y")],
                               commands: [HostProbes.identity("/s").argv: F.ok("1 2049:77\n"), HostProbes.identity("/h").argv: F.ok("1 2049:78\n")])
        XCTAssertEqual(other.failure, "Cannot link, file exists at destination")
    }

    // MARK: Argument errors

    func testArgumentErrors() {
        XCTAssertThrowsError(try file(["path": "/f", "state": "file", "recurse": true])) { error in
            XCTAssertEqual((error as? ModuleError)?.message, "recurse option requires state to be 'directory'")
        }
        XCTAssertThrowsError(try file(["path": "/f", "state": "directory", "src": "/x"])) { error in
            XCTAssertEqual((error as? ModuleError)?.message, "src option requires state to be 'link' or 'hard'")
        }
        XCTAssertThrowsError(try file(["path": "/f", "state": "bogus"]))
        XCTAssertThrowsError(try file(["state": "directory"]))
    }
}
