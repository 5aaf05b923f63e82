import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

/// yum_repository, apt_repository, deb822_repository, apt_key and rpm_key: files and key lists in, plan out.
final class ModuleRepositoryTests: XCTestCase {
    typealias F = ModuleFixture

    // MARK: yum_repository

    func testYumRepositoryWritesConfigparsersFormAndKeepsOtherSections() throws {
        let module = try F.make(YumRepositoryModule.self, ["name": "epel", "description": "EPEL", "baseurl": ["http://a/", "http://b/"],
                                                           "gpgcheck": true, "exclude": ["x", "y"], "priority": 10])
        let existing = "# mine\n[other]\nname=Other\nbaseurl = http://o/\n"
        let plan = try F.plan(module, files: ["/etc/yum.repos.d/epel.repo": F.file(existing), "/etc/yum.repos.d": F.directory()])
        XCTAssertEqual(plan.written, "[other]\nname = Other\nbaseurl = http://o/\n\n"
            + "[epel]\nbaseurl = http://a/\n\thttp://b/\nexclude = x y\ngpgcheck = 1\nname = EPEL\npriority = 10\n\n")
        let converged = try F.plan(module, files: ["/etc/yum.repos.d/epel.repo": F.file(plan.written ?? ""), "/etc/yum.repos.d": F.directory()])
        XCTAssertFalse(converged.isChanged)
        XCTAssertThrowsError(try F.make(YumRepositoryModule.self, ["name": "epel", "baseurl": "http://a/"])) {
            XCTAssertEqual(($0 as? ModuleError)?.message, "state is present but all of the following are missing: description")
        }
        let gone = try F.plan(try F.make(YumRepositoryModule.self, ["name": "epel", "state": "absent"]),
                              files: ["/etc/yum.repos.d/epel.repo": F.file("[epel]\nname = E\n"), "/etc/yum.repos.d": F.directory()])
        XCTAssertEqual(gone.actions, [.remove(path: "/etc/yum.repos.d/epel.repo")], "a file left without sections is removed")
        XCTAssertEqual(try F.plan(module, files: [:]).failure, "Repo directory '/etc/yum.repos.d' does not exist.")
    }

    // MARK: apt_repository

    func testAptRepositoryNamesTheFileAsAnsibleDoes() throws {
        let module = try F.make(AptRepositoryModule.self, ["repo": "deb [arch=amd64 signed-by=/k.asc] https://user:pw@dl.example.com/linux/deb/  stable main"])
        XCTAssertEqual(module.suggestedFile, "/etc/apt/sources.list.d/dl_example_com_linux_deb.list")
        XCTAssertEqual(module.source, "deb [arch=amd64 signed-by=/k.asc] https://user:pw@dl.example.com/linux/deb/ stable main")
        XCTAssertEqual(try F.make(AptRepositoryModule.self, ["repo": "deb http://x/ y z", "filename": "mine"]).suggestedFile,
                       "/etc/apt/sources.list.d/mine.list")
        XCTAssertThrowsError(try F.make(AptRepositoryModule.self, ["repo": "ppa:user/name"]))
        XCTAssertThrowsError(try F.make(AptRepositoryModule.self, ["repo": "http://x/ y z"])) {
            XCTAssertEqual(($0 as? ModuleError)?.message, "Invalid repository string: http://x/ y z")
        }
    }

    func sources(_ files: [String: String]) -> CommandOutput {
        F.ok(files.sorted { $0.key < $1.key }.map { "\0\($0.key)\0\($0.value)" }.joined())
    }

    func testAptRepositoryAddsEnablesAndRemovesLines() throws {
        let line = "deb http://deb.example.com/debian bookworm main"
        let module = try F.make(AptRepositoryModule.self, ["repo": .string(line)])
        let file = module.suggestedFile
        let fresh = try F.plan(module, commands: [AptRepositoryModule.probe.argv: sources(["/etc/apt/sources.list": "deb http://deb.debian.org/debian bookworm main\n"])])
        XCTAssertEqual(fresh.actions.first, .writeFile(path: file, content: Array((line + "\n").utf8), attributes: FileAttributes(mode: 0o644), backup: false))
        XCTAssertEqual(fresh.summaries.last, "update the package index")
        XCTAssertEqual(fresh.result["sources_added"], .list([.string(file)]))
        // Already there (in any file): nothing; commented out: enabled in place.
        XCTAssertFalse(try F.plan(module, commands: [AptRepositoryModule.probe.argv: sources(["/etc/apt/sources.list": line + "  # mine\n"])]).isChanged)
        let enabled = try F.plan(module, commands: [AptRepositoryModule.probe.argv: sources(["/etc/apt/sources.list": "#" + line + "\n"])])
        XCTAssertEqual(enabled.written, line + "\n")
        let removal = try F.make(AptRepositoryModule.self, ["repo": .string(line), "state": "absent", "update_cache": false])
        let removed = try F.plan(removal, commands: [AptRepositoryModule.probe.argv: sources([file: line + "\n", "/etc/apt/sources.list": "deb http://x/ y z\n"])])
        XCTAssertEqual(removed.actions, [.remove(path: file)])
        XCTAssertEqual(removed.result["sources_removed"], .list([.string(file)]))
    }

    func testAFailedRefreshRestoresTheSources() throws {
        let module = try F.make(AptRepositoryModule.self, ["repo": "deb http://x/debian bookworm main"])
        let command = module.refresh(restoring: ["/etc/apt/sources.list", "/etc/apt/sources.list.d/new.list"], [("/etc/apt/sources.list", "old\n")])
        XCTAssertEqual(Array(command.argv.dropFirst(4)), ["restore", "4", "/etc/apt/sources.list", "remove", "/etc/apt/sources.list.d/new.list"])
        XCTAssertEqual(command.stdin, Array("old\n".utf8))
    }

    // MARK: deb822_repository

    func testDeb822WritesItsFieldsAndTheKeyItFetched() throws {
        let key = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBF\n-----END PGP PUBLIC KEY BLOCK-----\n"
        let module = try F.make(Deb822RepositoryModule.self, ["name": "Docker CE", "uris": "https://download.docker.com/linux/debian",
                                                              "suites": "bookworm", "components": "stable", "signed_by": "https://download.docker.com/gpg",
                                                              "enabled": true])
        XCTAssertEqual(module.sourcesPath, "/etc/apt/sources.list.d/docker-ce.sources")
        let fetch = HTTPFetch.get("https://download.docker.com/gpg")
        let plan = try F.plan(module, commands: [fetch.argv: F.ok("status\t200\nbody\t\(Data(key.utf8).base64EncodedString())\n")])
        XCTAssertEqual(plan.summaries, ["create /etc/apt/keyrings", "create /etc/apt/keyrings/docker-ce.asc", "create /etc/apt/sources.list.d/docker-ce.sources"])
        XCTAssertEqual(plan.written, key)
        XCTAssertEqual(plan.result["repo"], """
            Components: stable
            Enabled: yes
            X-Repolib-Name: Docker CE
            Signed-By: /etc/apt/keyrings/docker-ce.asc
            Suites: bookworm
            Types: deb
            URIs: https://download.docker.com/linux/debian

            """)
        let failing = try F.plan(module, commands: [fetch.argv: F.ok("failure\tConnection refused\n")])
        XCTAssertEqual(failing.failure, "Could not fetch signed_by key: Connection refused")
        XCTAssertEqual(Deb822RepositoryModule.field("signed_by", "-----BEGIN\n\nabc\n-----END\n"),
                       "Signed-By:\n    -----BEGIN\n    .\n    abc\n    -----END\n")
        XCTAssertThrowsError(try F.make(Deb822RepositoryModule.self, ["name": "x", "uris": "http://a", "suites": "s", "types": "rpm"]))
    }

    // MARK: apt_key

    func testAptKeyIdsAndListings() throws {
        XCTAssertEqual(try AptKeyModule.parse("0x9DC858229FC7DD38854AE2D88D81803C0EBFCD88").short, "0EBFCD88")
        XCTAssertEqual(try AptKeyModule.parse("0x9DC858229FC7DD38854AE2D88D81803C0EBFCD88").fingerprint, "8D81803C0EBFCD88")
        XCTAssertThrowsError(try AptKeyModule.parse("12345"))
        let listing = "pub   rsa4096/8D81803C0EBFCD88 2017-02-22 [SCEA]\nuid Docker\nsub   rsa4096/7EA0A9C3F273FCD8 2017-02-22 [S]\n"
            + "pub   rsa2048/AAAAAAAAAAAAAAAA 2010-01-01 [SC] [expired: 2012-01-01]\n"
        XCTAssertEqual(AptKeyModule.keys(listing), ["8D81803C0EBFCD88", "7EA0A9C3F273FCD8"])
        XCTAssertEqual(AptKeyModule.keys("pub:-:4096:1:8D81803C0EBFCD88:1487788586:::-:\n"), ["8D81803C0EBFCD88"])
    }

    func testAptKeyAddsOnlyAMissingKey() throws {
        let module = try F.make(AptKeyModule.self, ["id": "0EBFCD88", "url": "https://h/gpg"])
        let present = "@keys\npub   rsa4096/8D81803C0EBFCD88 2017-02-22 [SCEA]\n@rc 0\n"
        XCTAssertFalse(try F.plan(module, commands: [module.probe.argv: F.ok(present + "@data AAEC\n")]).isChanged)
        let missing = try F.plan(module, commands: [module.probe.argv: F.ok("@keys\n@rc 0\n@data AAEC\n@key\npub:-:1:1:8D81803C0EBFCD88:\n")])
        XCTAssertEqual(missing.actions, [.run(Command(["apt-key", "add", "-"], environment: ["LANG": "C", "LC_ALL": "C"], stdin: [0, 1, 2]))])
        // As Ansible: without apt-key (Debian 13) the task ends unchanged, saying why.
        let gone = try F.plan(module, commands: [module.probe.argv: F.ok("noaptkey\n")])
        XCTAssertFalse(gone.isChanged)
        XCTAssertNil(gone.failure)
        let removal = try F.make(AptKeyModule.self, ["id": "8D81803C0EBFCD88", "state": "absent", "keyring": "/etc/apt/trusted.gpg.d/x.gpg"])
        XCTAssertEqual(try F.plan(removal, commands: [removal.probe.argv: F.ok(present)]).actions,
                       [.run(Command(["apt-key", "--keyring", "/etc/apt/trusted.gpg.d/x.gpg", "del", "0EBFCD88"]))])
        XCTAssertThrowsError(try F.make(AptKeyModule.self, ["keyserver": "keyserver.ubuntu.com"]))
        XCTAssertThrowsError(try F.make(AptKeyModule.self, ["id": "0EBFCD88", "url": "u", "data": "d"]))
    }

    // MARK: rpm_key

    func testRPMKeyImportsOnlyAMissingKeyWithTheRightFingerprint() throws {
        let module = try F.make(RPMKeyModule.self, ["key": "/etc/pki/rpm-gpg/RPM-GPG-KEY-x", "fingerprint": "AAAA BBBB"])
        let listing = "@installed\nabcd1234\n@key\npub:-:4096:1:00112233DEADBEEF:1:::-:\nfpr:::::::::AAAABBBB:\n"
        let plan = try F.plan(module, commands: [module.probe.argv: F.ok(listing)])
        XCTAssertEqual(plan.actions, [.run(Command(["rpm", "--import", "/etc/pki/rpm-gpg/RPM-GPG-KEY-x"]))])
        XCTAssertEqual(plan.result["keyid"], "deadbeef")
        XCTAssertFalse(try F.plan(module, commands: [module.probe.argv: F.ok("@installed\ndeadbeef\n" + listing.dropFirst(20))]).isChanged)
        let wrong = try F.make(RPMKeyModule.self, ["key": "/k", "fingerprint": "CCCC"])
        XCTAssertTrue(try F.plan(wrong, commands: [wrong.probe.argv: F.ok(listing)]).failure?.hasPrefix("The specified fingerprint, 'CCCC'") == true)
        let removal = try F.make(RPMKeyModule.self, ["key": "0xDEADBEEF", "state": "absent"])
        XCTAssertEqual(try F.plan(removal, commands: [removal.probe.argv: F.ok("@installed\ndeadbeef\n")]).actions,
                       [.run(Command(["rpm", "--erase", "--allmatches", "gpg-pubkey-deadbeef"]))])
        XCTAssertEqual(try F.plan(removal, commands: [removal.probe.argv: F.ok("norpm\n")]).failure, "the host has no rpm")
    }
}
