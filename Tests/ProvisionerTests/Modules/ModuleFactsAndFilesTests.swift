import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

/// stat, find, slurp, getent, package_facts, service_facts and file's SELinux arguments:
/// what the host answered in, result (and facts) out.
final class ModuleFactsAndFilesTests: XCTestCase {
    typealias F = ModuleFixture

    // MARK: stat

    func testStatDescribesAFileAsAnsibleDoes() throws {
        let module = try F.make(StatModule.self, ["path": "/etc/passwd", "checksum_algorithm": "sha256"])
        let stat = "stat\t81a4|0|0|1523|2242|2049|1|1700000001.5|1700000002.25|1700000003.0|8|4096|0|0|root|root\n"
        let plan = try F.plan(module, commands: [module.probe.argv: F.ok(stat + "access\trw\nchecksum\tabc\nmime\ttext/plain; charset=us-ascii\n"
            + "lsattr\t123 --------------e------- /etc/passwd\n")])
        let result = try XCTUnwrap(plan.result["stat"]?.dict)
        XCTAssertEqual(result["mode"], "0644")
        XCTAssertEqual(result["isreg"], true)
        XCTAssertEqual(result["isdir"], false)
        XCTAssertEqual(result["size"], 1523)
        XCTAssertEqual(result["mtime"], 1700000002.25)
        XCTAssertEqual(result["readable"], true)
        XCTAssertEqual(result["executable"], false)
        XCTAssertEqual(result["roth"], true)
        XCTAssertEqual(result["woth"], false)
        XCTAssertEqual(result["pw_name"], "root")
        XCTAssertEqual(result["checksum"], "abc")
        XCTAssertEqual(result["mimetype"], "text/plain")
        XCTAssertEqual(result["charset"], "us-ascii")
        XCTAssertEqual(result["attributes"], ["extents"])
        XCTAssertEqual(result["attr_flags"], "e")
        XCTAssertFalse(plan.isChanged)
        let missing = try F.plan(module, commands: [module.probe.argv: F.ok("missing\n")])
        XCTAssertEqual(missing.result["stat"], ["exists": false])
        let link = try F.plan(module, commands: [module.probe.argv: F.ok(
            "stat\ta1ff|0|0|9|1|1|1|0|0|0|0|4096|0|0|UNKNOWN|UNKNOWN\naccess\tr\nlink\tb\nreal\t/etc/b\n")])
        XCTAssertEqual(link.result["stat"]?["islnk"], true)
        XCTAssertEqual(link.result["stat"]?["lnk_target"], "b")
        XCTAssertEqual(link.result["stat"]?["lnk_source"], "/etc/b")
        XCTAssertNil(link.result["stat"]?["pw_name"], "no name for the id: left out, as Ansible does")
        XCTAssertEqual(link.result["stat"]?["mimetype"], "unknown", "no file(1) on the host")
    }

    func testStatOnThisMachineMatchesFoundation() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("provision-stat-\(UUID().uuidString)")
        try Data("hello\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        chmod(file.path, 0o640)
        let module = try F.make(StatModule.self, ["path": .string(file.path)])
        let output = try Subprocess.run(Command(module.probe.argv))
        let stat = try F.plan(module, commands: [module.probe.argv: output]).result["stat"]?.dict
        XCTAssertEqual(stat?["mode"], "0640")
        XCTAssertEqual(stat?["size"], 6)
        XCTAssertEqual(stat?["checksum"], "f572d396fae9206628714fb2ce00f72e94f2258f")
        XCTAssertEqual(stat?["isreg"], true)
    }

    // MARK: find

    func testFindFiltersAndOrdersAsOsWalk() throws {
        let module = try F.make(FindModule.self, ["paths": "/srv", "patterns": ["*.log"], "recurse": true, "age": "1d", "size": "-1k"])
        func entry(_ type: String, _ mode: String, _ size: Int, _ mtime: Double, _ path: String) -> String {
            "entry\t\(type) \(mode) 0 0 \(size) 1 2 1 0 \(mtime) 0\troot\troot\t\(path)\0"
        }
        let now = 1_700_000_000.0
        let listing = "now\t\(now)\0root\t/srv\0"
            + entry("d", "755", 0, now, "/srv/sub") + entry("f", "644", 10, now - 90_000, "/srv/sub/old.log")
            + entry("f", "644", 10, now - 100, "/srv/new.log") + entry("f", "644", 10, now - 90_000, "/srv/a.log")
            + entry("f", "644", 5000, now - 90_000, "/srv/big.log") + entry("f", "644", 1, now - 90_000, "/srv/.hidden.log")
            + entry("f", "644", 1, now - 90_000, "/srv/a.txt")
        let plan = try F.plan(module, commands: [module.probe.argv: F.ok(listing)])
        // The folder's files first (in listing order), then down into sub.
        XCTAssertEqual(plan.result["files"]?.list?.compactMap { $0["path"]?.string }, ["/srv/a.log", "/srv/sub/old.log"])
        XCTAssertEqual(plan.result["matched"], 2)
        XCTAssertEqual(plan.result["examined"], 7)
        XCTAssertEqual(plan.result["msg"], "All paths examined")
        XCTAssertEqual(plan.result["files"]?.list?.first?["mode"], "0644")
        XCTAssertEqual(plan.result["files"]?.list?.first?["pw_name"], "root")
        XCTAssertThrowsError(try F.make(FindModule.self, ["paths": "/srv", "age": "2x"])) { XCTAssertEqual(($0 as? ModuleError)?.message, "failed to process age") }
        XCTAssertThrowsError(try F.make(FindModule.self, ["paths": "/srv", "limit": 0]))
        XCTAssertThrowsError(try F.make(FindModule.self, ["paths": "/srv", "encoding": "latin-1"]))
    }

    func testFindMatchesContentLineByLineAndSkipsWhatIsNoFolder() throws {
        let module = try F.make(FindModule.self, ["paths": ["/etc/app", "/nope"], "contains": "^port\\s*="])
        let body = Data("# config\nport = 80\n".utf8).base64EncodedString(), other = Data("no port here\n".utf8).base64EncodedString()
        let listing = "now\t1\0skip\t/nope\t'/nope' is not a directory\0root\t/etc/app\0"
            + "entry\tf 644 0 0 9 1 2 1 0 0 0\troot\troot\t/etc/app/a.conf\0entry\tf 644 0 0 9 1 2 1 0 0 0\troot\troot\t/etc/app/b.conf\0"
            + "data\t/etc/app/a.conf\t\(body)\0data\t/etc/app/b.conf\t\(other)\0"
        let plan = try F.plan(module, commands: [module.probe.argv: F.ok(listing)])
        XCTAssertEqual(plan.result["files"]?.list?.compactMap { $0["path"]?.string }, ["/etc/app/a.conf"])
        XCTAssertEqual(plan.result["skipped_paths"], ["/nope": "'/nope' is not a directory"])
        XCTAssertEqual(plan.result["msg"], "Not all paths examined, check warnings for details")
    }

    func testFindOnThisMachine() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("provision-find-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("d"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("x".utf8).write(to: folder.appendingPathComponent("a.log"))
        try Data("y".utf8).write(to: folder.appendingPathComponent("d/b.log"))
        try Data("z".utf8).write(to: folder.appendingPathComponent("c.txt"))
        let module = try F.make(FindModule.self, ["paths": .string(folder.path), "patterns": "*.log", "recurse": true, "get_checksum": true])
        let output = try Subprocess.run(Command(module.probe.argv))
        let files = try F.plan(module, commands: [module.probe.argv: output]).result["files"]?.list ?? []
        XCTAssertEqual(files.compactMap { $0["path"]?.string }, [folder.path + "/a.log", folder.path + "/d/b.log"])
        XCTAssertEqual(files.first?["checksum"], "11f6ad8ec52a2984abaafd7c3b516503785c2072")
        // Contents are read on the host only for the files the patterns name (find's -name), quotes and all.
        try Data("port = 1\n".utf8).write(to: folder.appendingPathComponent("it's.log"))
        try Data("port = 2\n".utf8).write(to: folder.appendingPathComponent("other.txt"))
        let reader = try F.make(FindModule.self, ["paths": .string(folder.path), "patterns": ["it's*", "*.txt"], "contains": "^port = 1", "age": "-1d"])
        let read = try Subprocess.run(Command(reader.probe.argv))
        let sent = read.stdout.split(separator: "\0").filter { $0.hasPrefix("data\t") }.map { String($0.split(separator: "\t")[1]) }
        XCTAssertEqual(Set(sent), [folder.path + "/it's.log", folder.path + "/c.txt", folder.path + "/other.txt"])
        XCTAssertEqual(try F.plan(reader, commands: [reader.probe.argv: read]).result["files"]?.list?.compactMap { $0["path"]?.string },
                       [folder.path + "/it's.log"])
    }

    // MARK: slurp

    func testSlurpReturnsBase64AndSaysWhyItCannot() throws {
        let module = try F.make(SlurpModule.self, ["path": "/etc/hostname"])
        XCTAssertEqual(try F.plan(module, commands: [module.probe.argv: F.ok("aG9zdAo=")]).result,
                       ["content": "aG9zdAo=", "source": "/etc/hostname", "encoding": "base64"])
        XCTAssertEqual(try F.plan(module, commands: [module.probe.argv: F.failed(1, "", "base64: /etc/hostname: No such file or directory")]).failure,
                       "File not found: /etc/hostname")
        XCTAssertEqual(try F.plan(module, commands: [module.probe.argv: F.failed(1, "", "base64: read error: Is a directory")]).failure,
                       "Source is a directory and must be a file: /etc/hostname")
    }

    // MARK: Facts modules

    func testGetentFactsAsAnsibleSplitsThem() throws {
        XCTAssertTrue(GetentModule.returnsFacts)
        let passwd = try F.make(GetentModule.self, ["database": "passwd", "key": "root"])
        let plan = try F.plan(passwd, commands: [["getent", "passwd", "root"]: F.ok("root:x:0:0:root:/root:/bin/bash\n")])
        XCTAssertEqual(plan.result["ansible_facts"], ["getent_passwd": ["root": ["x", "0", "0", "root", "/root", "/bin/bash"]]])
        let hosts = try F.make(GetentModule.self, ["database": "hosts"])
        let many = try F.plan(hosts, commands: [["getent", "hosts"]: F.ok("127.0.0.1  localhost\n127.0.0.1  box box.lan\n10.0.0.1 db\n")])
        XCTAssertEqual(many.result["ansible_facts"]?["getent_hosts"]?["127.0.0.1"], [["localhost"], ["box", "box.lan"]])
        XCTAssertEqual(many.result["ansible_facts"]?["getent_hosts"]?["10.0.0.1"], ["db"])
        let absent = try F.make(GetentModule.self, ["database": "passwd", "key": "nobody-here", "fail_key": false])
        let quiet = try F.plan(absent, commands: [["getent", "passwd", "nobody-here"]: F.failed(2)])
        XCTAssertNil(quiet.failure)
        XCTAssertEqual(quiet.result["ansible_facts"], ["getent_passwd": ["nobody-here": nil]])
        XCTAssertEqual(try F.plan(try F.make(GetentModule.self, ["database": "passwd", "key": "x"]),
                                  commands: [["getent", "passwd", "x"]: F.failed(2)]).failure,
                       "One or more supplied key could not be found in the database.")
        XCTAssertEqual(try F.plan(try F.make(GetentModule.self, ["database": "bogus"]), commands: [["getent", "bogus"]: F.failed(1)]).failure,
                       "Missing arguments, or database unknown.")
    }

    func testPackageFactsFromDpkgAndRpm() throws {
        let module = try F.make(PackageFactsModule.self, [:])
        let dpkg = "bash\tii \t5.2.15-2+b8\tamd64\tshells\t\nold\trc \t1.0\tamd64\tmisc\t\ndpkg\tii \t1.21.22\tamd64\tadmin\tDebian\n"
            + "libc6\tii \t2.36-9\tamd64\tlibs\tDebian\nlibc6\tii \t2.36-9\ti386\tlibs\tDebian\ntzdata\tii \t2024a\tall\tlocalization\tDebian\n"
        let plan = try F.plan(module, commands: [PackageFactsModule.dpkg: F.ok(dpkg), PackageFactsModule.rpm: F.failed(127)])
        let packages = try XCTUnwrap(plan.result["ansible_facts"]?["packages"]?.dict)
        // python-apt's names: bare in dpkg's own architecture (and for "all"), qualified in a foreign one.
        XCTAssertEqual(packages.keys.sorted(), ["bash", "dpkg", "libc6", "libc6:i386", "tzdata"], "only installed packages")
        XCTAssertEqual(packages["libc6:i386"]?.list?.first?["arch"], "i386")
        XCTAssertEqual(packages["bash"], [["name": "bash", "version": "5.2.15-2+b8", "arch": "amd64", "category": "shells", "origin": "",
                                           "source": "apt"]])
        let rpm = try F.make(PackageFactsModule.self, ["manager": "rpm"])
        let onRPM = try F.plan(rpm, commands: [PackageFactsModule.rpm: F.ok("bash\t5.2\t1.fc40\t(none)\tx86_64\nkernel\t6.1\t1\t(none)\tx86_64\nkernel\t6.2\t1\t(none)\tx86_64\n")])
        XCTAssertEqual(onRPM.result["ansible_facts"]?["packages"]?["kernel"]?.list?.count, 2)
        XCTAssertEqual(onRPM.result["ansible_facts"]?["packages"]?["bash"]?.list?.first?["epoch"], .null)
        XCTAssertNotNil(try F.plan(rpm, commands: [PackageFactsModule.rpm: F.failed(127)]).failure)
        XCTAssertThrowsError(try F.make(PackageFactsModule.self, ["manager": "pacman"]))
    }

    func testServiceFactsCombineUnitsAndUnitFiles() throws {
        let module = try F.make(ServiceFactsModule.self, [:])
        let probe = """
            @units
            cron.service loaded active running Regular background program processing daemon
            ssh.service loaded failed failed OpenBSD Secure Shell server
            @files
            cron.service enabled enabled
            ssh.service enabled enabled
            rsync.service disabled enabled
            @show
            Id=rsync.service
            ActiveState=inactive

            """
        let plan = try F.plan(module, commands: [ServiceFactsModule.probe.argv: F.ok(probe)])
        let services = try XCTUnwrap(plan.result["ansible_facts"]?["services"]?.dict)
        XCTAssertEqual(services["cron.service"], ["name": "cron.service", "state": "running", "status": "enabled", "source": "systemd"])
        XCTAssertEqual(services["ssh.service"]?["status"], "failed", "a bad state wins over the unit file's")
        XCTAssertEqual(services["ssh.service"]?["state"], "stopped")
        XCTAssertEqual(services["rsync.service"], ["name": "rsync.service", "state": "inactive", "status": "disabled", "source": "systemd"])
        XCTAssertEqual(try F.plan(module, commands: [ServiceFactsModule.probe.argv: F.ok("nosystemd\n")]).result["ansible_facts"],
                       ["services": [:]])
    }

    // MARK: file: SELinux

    func testSELinuxArgumentsApplyWhereSELinuxIsOnOnly() throws {
        let module = try F.make(FileModule.self, ["path": "/srv/www", "state": "directory", "setype": "httpd_sys_content_t"])
        let probe = SELinuxContext.probe("/srv/www", follow: true)
        let off = try F.plan(module, files: ["/srv/www": F.directory()], commands: [probe.argv: F.ok("off\n")], targets: ["/srv/www": F.directory()])
        XCTAssertFalse(off.isChanged, "ignored without SELinux, as Ansible does")
        let on = try F.plan(module, files: ["/srv/www": F.directory()],
                            commands: [probe.argv: F.ok("on\nsystem_u:object_r:var_t:s0\n")], targets: ["/srv/www": F.directory()])
        XCTAssertEqual(on.actions, [.run(Command(["chcon", "-t", "httpd_sys_content_t", "--", "/srv/www"]))])
        let already = try F.plan(module, files: ["/srv/www": F.directory()],
                                 commands: [probe.argv: F.ok("on\nsystem_u:object_r:httpd_sys_content_t:s0\n")], targets: ["/srv/www": F.directory()])
        XCTAssertFalse(already.isChanged)
        let created = try F.plan(module, commands: [probe.argv: F.ok("on\n-\n")])
        XCTAssertEqual(created.actions.count, 2, "mkdir, then chcon")
    }
}
