import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

final class ModulePackageTests: XCTestCase {
    typealias F = ModuleFixture

    let apt = ModuleContext(facts: ValueDict([("pkg_mgr", "apt"), ("os_family", "Debian")]))
    let dnf = ModuleContext(facts: ValueDict([("pkg_mgr", "dnf"), ("os_family", "RedHat")]))

    func package(_ arguments: KeyValuePairs<String, Value>) throws -> PackageModule { try F.make(PackageModule.self, arguments) }

    /// The probe for `names`: dpkg's whole listing, whatever the names.
    func dpkg(_ names: [String]) -> [String] { PackageManager.dpkgListing }
    func policy(_ names: [String]) -> [String] { ["env", "LC_ALL=C", "apt-cache", "policy"] + names }
    func rpm(_ names: [String]) -> [String] { ["/bin/sh", "-c", PackageManager.rpmScript, "sh"] + names }
    func checkUpdate(_ names: [String]) -> [String] { ["env", "LC_ALL=C", "dnf", "-q", "check-update"] + names }

    /// What `apt-get install` of `names` looks like.
    func aptInstall(_ names: [String], _ extra: [String] = []) -> Action {
        .run(Command(["apt-get", "install", "-y", "-q", "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold",
                      "-o", "APT::Cmd::Pattern-Only=1"] + extra + names, environment: ["DEBIAN_FRONTEND": "noninteractive"]))
    }

    /// dpkg-query's listing, as on Debian 12 (the lines that matter to the test).
    func dpkgAnswer(_ lines: [String]) -> CommandOutput {
        CommandOutput(status: 0, stdout: lines.map { $0 + "\n" }.joined(), stderr: "")
    }

    // MARK: Declaration

    func testNamesAliasesAndArguments() throws {
        XCTAssertEqual(PackageModule.name, "package")
        XCTAssertEqual(PackageModule.aliases, ["apt", "dnf", "yum"])
        XCTAssertEqual(try package(["pkg": "curl, jq"]).names, ["curl", "jq"])
        XCTAssertEqual(try package(["package": ["curl", " jq "]]).names, ["curl", "jq"])
        XCTAssertEqual(try package(["name": "curl", "state": "installed"]).state, .present)
        XCTAssertEqual(try package(["name": "curl", "state": "removed"]).state, .absent)
        XCTAssertEqual(try package(["name": "curl"]).state, .present)
        XCTAssertFalse(try package(["name": "curl"]).updateCache)
    }

    func testArgumentErrorsSayWhatIsWrong() {
        XCTAssertThrowsError(try package(["state": "present"])) { error in
            XCTAssertEqual((error as? ModuleError)?.message, "one of the following is required: name, update_cache, upgrade, autoremove")
        }
        XCTAssertThrowsError(try package(["name": .list([])])) { error in
            XCTAssertEqual((error as? ModuleError)?.message, "name must list at least one package")
        }
        for odd in ["curl=7.88", "@development-tools", "/tmp/x.rpm", "-y", "lib*", "foo bar"] {
            XCTAssertThrowsError(try package(["name": .string(odd)]), odd) { error in
                XCTAssertTrue((error as? ModuleError)?.message.hasPrefix("'\(odd)' is not a plain package name") == true, "\(error)")
                XCTAssertEqual((error as? ModuleError)?.argument, "name")
            }
        }
        XCTAssertThrowsError(try package(["name": "curl", "purge": true])) { error in
            XCTAssertEqual((error as? ModuleError)?.argument, "purge")
        }
        XCTAssertThrowsError(try package(["name": "curl", "state": "newest"]))
        XCTAssertNoThrow(try package(["name": ["g++", "python3.11", "libc6:i386", "pkgconfig(glib-2.0)"]]))
    }

    // MARK: apt

    func testFreshHostInstallsEverythingMissingInOneTransaction() throws {
        let module = try package(["name": ["curl", "jq", "bash"]])
        XCTAssertEqual(module.observations(apt), [.command(dpkg(["curl", "jq", "bash"]))])
        let plan = try F.plan(module, commands: [dpkg(["curl", "jq", "bash"]): dpkgAnswer(["bash\tii \t5.2.15-2+b8\tamd64"])],
                              context: apt)
        XCTAssertEqual(plan.summaries, ["install curl, jq"])
        XCTAssertEqual(plan.actions, [aptInstall(["curl", "jq"])])
        XCTAssertEqual(plan.changes.first?.diff, TextDiff(label: "packages", before: "curl: absent\njq: absent\n",
                                                          after: "curl: installed\njq: installed\n"))
        XCTAssertEqual(plan.result["name"], ["curl", "jq", "bash"])
        XCTAssertEqual(plan.result["pkg_mgr"], "apt")
        XCTAssertEqual(plan.result["state"], "present")
    }

    func testConvergedHostRefreshesTheIndexWithoutAChange() throws {
        // As Ansible: update_cache refreshes every time, and the refresh alone is no change of the task.
        let module = try package(["name": ["bash", "coreutils"], "update_cache": true])
        let plan = try F.plan(module, commands: [dpkg(["bash", "coreutils"]): dpkgAnswer(["bash\tii \t5.2\tamd64", "coreutils\thi \t9.1-1\tamd64"])],
                              context: apt)
        XCTAssertFalse(plan.isChanged)
        XCTAssertEqual(plan.steps.map(\.command), [Command(PackageManager.aptRefresh, label: "apt-get update -q")])
        XCTAssertEqual(plan.result["cache_updated"], true)
        let refreshed = plan.steps[0].interpret(StepRun(output: F.ok("Reading package lists...\n")))
        XCTAssertFalse(refreshed.changed)
        XCTAssertTrue(refreshed.touched, "later observations must be read again")
        XCTAssertEqual(plan.steps[0].interpret(StepRun(output: F.failed(100, "", "E: Failed to fetch x\n"))).failure,
                       "Failed to update the package index: E: Failed to fetch x")
    }

    func testUpdateCacheComesBeforeTheInstall() throws {
        let module = try package(["name": "curl", "update_cache": true])
        let plan = try F.plan(module, commands: [dpkg(["curl"]): dpkgAnswer([])], context: apt)
        XCTAssertEqual(plan.steps.map(\.command), [Command(PackageManager.aptRefresh, label: "apt-get update -q")])
        XCTAssertEqual(plan.actions, [aptInstall(["curl"])])
        XCTAssertEqual(plan.result["cache_updated"], true)
    }

    func testUpdateCacheAloneIsAChangeUnlessTheIndexIsFresh() throws {
        let module = try package(["update_cache": true])
        XCTAssertEqual(module.observations(apt), [])
        let plan = try F.plan(module, context: apt)
        XCTAssertEqual(plan.summaries, ["update the package index"])
        XCTAssertEqual(plan.actions, [.run(Command(PackageManager.aptRefresh, label: "apt-get update -q"))])
        // cache_valid_time: the stamp of the last update against the host's clock.
        let valid = try package(["cache_valid_time": 3600])
        XCTAssertEqual(valid.observations(apt), [.command(PackageManager.aptCacheAge)])
        let fresh = try F.plan(valid, commands: [PackageManager.aptCacheAge: F.ok("1700000000\n1700003000\n")], context: apt)
        XCTAssertFalse(fresh.isChanged)
        XCTAssertEqual(fresh.result["cache_updated"], false)
        let stale = try F.plan(valid, commands: [PackageManager.aptCacheAge: F.ok("1700000000\n1700003601\n")], context: apt)
        XCTAssertEqual(stale.summaries, ["update the package index"])
        // dnf reports a refresh alone as no change, as Ansible's dnf does.
        let onDnf = try F.plan(module, context: dnf)
        XCTAssertFalse(onDnf.isChanged)
        XCTAssertEqual(onDnf.steps.map(\.command), [Command(["dnf", "makecache"])])
    }

    func testUpgradeIsPlannedFromApsSimulation() throws {
        let simulate = PackageManager.aptSimulation(["dist-upgrade"])
        let module = try package(["upgrade": "dist", "autoremove": true])
        XCTAssertEqual(module.observations(apt), [.command(simulate), .command(PackageManager.aptSimulation(["autoremove"]))])
        let plan = try F.plan(module, commands: [
            simulate: F.ok("Reading package lists...\n2 upgraded, 1 newly installed, 0 to remove and 0 not upgraded.\nInst bash\n"),
            PackageManager.aptSimulation(["autoremove"]): F.ok("0 upgraded, 0 newly installed, 1 to remove and 0 not upgraded.\n"),
        ], context: apt)
        XCTAssertEqual(plan.summaries, ["upgrade the system: 2 upgraded, 1 newly installed, 0 to remove",
                                        "autoremove: 0 upgraded, 0 newly installed, 1 to remove"])
        XCTAssertEqual(plan.actions, [.run(PackageManager.aptCommand(["dist-upgrade", "--auto-remove"], .init())),
                                      .run(PackageManager.aptCommand(["autoremove"], .init()))])
        let current = try F.plan(try package(["upgrade": "yes"]), commands: [
            PackageManager.aptSimulation(["upgrade", "--with-new-pkgs"]): F.ok("0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n"),
        ], context: apt)
        XCTAssertFalse(current.isChanged)
    }

    func testAfterARefreshAptsSummarySaysWhetherLatestChangedAnything() throws {
        let module = try package(["name": ["bash"], "state": "latest", "update_cache": true, "default_release": "bookworm-backports"])
        let plan = try F.plan(module, commands: [dpkg(["bash"]): dpkgAnswer(["bash\tii \t5.2\tamd64"])], context: apt)
        XCTAssertEqual(plan.changes.count, 0)
        XCTAssertEqual(plan.steps.count, 2)
        XCTAssertEqual(plan.steps[1].command.argv.suffix(3), ["-t", "bookworm-backports", "bash"])
        let none = plan.steps[1].interpret(StepRun(output: F.ok("Reading...\n0 upgraded, 0 newly installed, 0 to remove and 5 not upgraded.\n")))
        XCTAssertFalse(none.changed)
        XCTAssertTrue(plan.steps[1].interpret(StepRun(output: F.ok("x\n1 upgraded, 0 newly installed, 0 to remove and 4 not upgraded.\n"))).changed)
        XCTAssertEqual(module.observations(apt).last,
                       .command(["env", "LC_ALL=C", "apt-cache", "-o", "APT::Default-Release=bookworm-backports", "policy", "bash"]))
    }

    func testOptionsOfTheOtherFamilyAreRefused() throws {
        let onApt = try F.plan(try package(["name": "curl", "enablerepo": "epel"]), commands: [dpkg(["curl"]): dpkgAnswer([])],
                               context: apt)
        XCTAssertEqual(onApt.failure?.hasPrefix("enablerepo and disablerepo are dnf options"), true)
        XCTAssertEqual(try F.plan(try package(["upgrade": "yes"]), context: dnf).failure?.hasPrefix("upgrade is an apt option"), true)
        XCTAssertEqual(try F.plan(try package(["name": "jq", "default_release": "x"]), commands: [rpm(["jq"]): F.ok("")], context: dnf).failure,
                       "default_release is an apt option; this host uses dnf (use enablerepo)")
    }

    func testDnfRepositoriesReachEveryCommand() throws {
        let module = try package(["name": ["jq", "podman"], "state": "latest", "enablerepo": ["epel", "crb"], "disablerepo": "updates-testing"])
        let repos = ["--enablerepo=epel", "--enablerepo=crb", "--disablerepo=updates-testing"]
        let check = ["env", "LC_ALL=C", "dnf", "-q"] + repos + ["check-update", "jq", "podman"]
        XCTAssertEqual(module.observations(dnf), [.command(rpm(["jq", "podman"])), .command(check)])
        let plan = try F.plan(module, commands: [rpm(["jq", "podman"]): F.ok("podman\tpodman\t5.1-1\n"),
                                                 check: CommandOutput(status: 100, stdout: "podman.x86_64  5.2-1  updates\n")], context: dnf)
        XCTAssertEqual(plan.actions, [.run(Command(["dnf", "install", "-y"] + repos + ["jq"])),
                                      .run(Command(["dnf", "upgrade", "-y"] + repos + ["podman"]))])
    }

    func testLeftoversAndHalfInstalledPackagesAreInstalled() throws {
        // rc: removed, configuration left; un: known, never installed; iU: unpacked, not configured; hi: held but installed.
        let names = ["vim", "acl", "nano", "bash"]
        let plan = try F.plan(try package(["name": .list(names.map { .string($0) })]),
                              commands: [dpkg(names): dpkgAnswer(["acl\tun \t\t", "bash\thi \t5.2\tamd64", "nano\tiU \t7.2-1\tamd64",
                                                                  "vim\trc \t9.0.1378-2\tamd64"])],
                              context: apt)
        XCTAssertEqual(plan.actions, [aptInstall(["vim", "acl", "nano"])])
        XCTAssertEqual(plan.changes.first?.diff?.before, "vim: 9.0.1378-2\nacl: absent\nnano: 7.2-1\n")
    }

    func testArchitectureQualifiedNames() throws {
        let names = ["libc6:i386", "libc6:amd64"]
        let plan = try F.plan(try package(["name": .list(names.map { .string($0) })]),
                              commands: [dpkg(names): dpkgAnswer(["libc6\tii \t2.36-9\tamd64"])], context: apt)
        XCTAssertEqual(plan.actions, [aptInstall(["libc6:i386"])])
    }

    func testInstallRecommends() throws {
        let answer = [dpkg(["curl"]): dpkgAnswer([])]
        XCTAssertEqual(try F.plan(try package(["name": "curl", "install_recommends": false]), commands: answer, context: apt).actions,
                       [aptInstall(["curl"], ["--no-install-recommends"])])
        XCTAssertEqual(try F.plan(try package(["name": "curl", "install_recommends": true]), commands: answer, context: apt).actions,
                       [aptInstall(["curl"], ["-o", "APT::Install-Recommends=yes"])])
    }

    static let bashPolicy = """
        bash:
          Installed: 5.2.15-2+b8
          Candidate: 5.2.15-2+b13
          Version table:
             5.2.15-2+b13 500
                500 http://deb.debian.org/debian bookworm/main amd64 Packages
         *** 5.2.15-2+b8 100
                100 /var/lib/dpkg/status
        coreutils:
          Installed: 9.1-1
          Candidate: 9.1-1
          Version table:
         *** 9.1-1 500
                500 http://deb.debian.org/debian bookworm/main amd64 Packages
                100 /var/lib/dpkg/status
        nano:
          Installed: 7.2-1
          Candidate: 7.2-2
        curl:
          Installed: (none)
          Candidate: 7.88.1-10
        """

    func testLatestUpgradesOnlyWhatHasANewerCandidate() throws {
        let names = ["bash", "coreutils", "nano", "curl"]
        let module = try package(["name": .list(names.map { .string($0) }), "state": "latest"])
        XCTAssertEqual(module.observations(apt), [.command(dpkg(names)), .command(policy(names))])
        let plan = try F.plan(module, commands: [
            dpkg(names): dpkgAnswer(["bash\tii \t5.2.15-2+b8\tamd64", "coreutils\tii \t9.1-1\tamd64", "nano\thi \t7.2-1\tamd64"]),
            policy(names): F.ok(ModulePackageTests.bashPolicy),
        ], context: apt)
        // nano is held: apt would refuse to change it under -y, so latest leaves it.
        XCTAssertEqual(plan.summaries, ["install curl; upgrade bash"])
        XCTAssertEqual(plan.actions, [aptInstall(["curl", "bash"])])
        XCTAssertEqual(plan.changes.first?.diff?.after, "curl: installed\nbash: 5.2.15-2+b13\n")
        XCTAssertEqual(plan.result["state"], "latest")
    }

    func testLatestWithEverythingCurrentIsNoChange() throws {
        let module = try package(["name": "coreutils", "state": "latest", "update_cache": true])
        let plan = try F.plan(module, commands: [dpkg(["coreutils"]): dpkgAnswer(["coreutils\tii \t9.1-1\tamd64"]),
                                                 policy(["coreutils"]): F.ok(ModulePackageTests.bashPolicy)], context: apt)
        XCTAssertFalse(plan.isChanged)
    }

    func testAbsentRemovesWhatIsThereInOneTransaction() throws {
        let names = ["vim", "nano", "acl", "curl"]
        let answer = [dpkg(names): dpkgAnswer(["acl\tun \t\t", "nano\tii \t7.2-1\tamd64", "vim\trc \t9.0\tamd64"])]
        let removal = try F.plan(try package(["name": .list(names.map { .string($0) }), "state": "absent"]), commands: answer, context: apt)
        XCTAssertEqual(removal.summaries, ["remove nano"])
        XCTAssertEqual(removal.actions, [.run(Command(["apt-get", "remove", "-y", "-q", "-o", "APT::Cmd::Pattern-Only=1", "nano"],
                                                      environment: ["DEBIAN_FRONTEND": "noninteractive"]))])
        XCTAssertEqual(removal.changes.first?.diff, TextDiff(label: "packages", before: "nano: 7.2-1\n", after: "nano: absent\n"))
        // purge also takes the configuration files a removed package left.
        let purge = try F.plan(try package(["name": .list(names.map { .string($0) }), "state": "absent", "purge": true]),
                               commands: answer, context: apt)
        XCTAssertEqual(purge.summaries, ["purge vim, nano"])
        XCTAssertEqual(purge.actions.first.map { if case .run(let c) = $0 { return Array(c.argv.prefix(2)) } else { return [] } }, ["apt-get", "purge"])
        // A removal refreshes too when asked (Ansible does), and is still no change when nothing is there.
        let converged = try F.plan(try package(["name": "acl", "state": "absent", "update_cache": true]),
                                   commands: [dpkg(["acl"]): dpkgAnswer(["acl\tun \t\t"])], context: apt)
        XCTAssertFalse(converged.isChanged)
        XCTAssertEqual(converged.steps.count, 1)
    }

    func testBrokenPackageDatabaseFails() throws {
        let plan = try F.plan(try package(["name": "curl"]),
                              commands: [dpkg(["curl"]): CommandOutput(status: 2, stdout: "", stderr: "dpkg-query: error: parsing file\n")],
                              context: apt)
        XCTAssertEqual(plan.failure, "dpkg-query failed (exit 2): dpkg-query: error: parsing file")
    }

    func testCheckModeOnAFreshHostListsTheInstall() throws {
        let check = ModuleContext(facts: apt.facts, checkMode: true)
        let module = try package(["name": ["podman", "uidmap"], "update_cache": true])
        let plan = try F.plan(module, commands: [dpkg(["podman", "uidmap"]): dpkgAnswer([])], context: check)
        XCTAssertEqual(plan.summaries, ["install podman, uidmap"])
        XCTAssertEqual(plan.actions.count, 1)
        // Check mode refreshes nothing, but says the index would be (Ansible's cache_updated).
        XCTAssertFalse(plan.steps.contains { $0.runsInCheckMode })
        XCTAssertEqual(plan.result["cache_updated"], true)
    }

    /// The apt probes on this machine, when it has them: real output parses as the fixtures assume.
    func testAptProbesOnThisHost() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/dpkg-query"), "no dpkg here")
        let names = ["dpkg", "no-such-package-provision-test"]
        let query = try TestSupport.run("/usr/bin/env", dpkg(names))
        XCTAssertEqual(query.status, 0)
        let installed = try PackageManager.apt.parseInstalled(CommandOutput(status: query.status, stdout: query.stdout), names).get()
        XCTAssertEqual(installed["dpkg"]?.isInstalled, true)
        XCTAssertFalse(installed["dpkg"]?.version.isEmpty ?? true)
        XCTAssertNil(installed["no-such-package-provision-test"])
        // Remembered: the first run tells a stamp with the same listing, a run with that stamp only "@same".
        var stamped = dpkg(names)
        stamped[4] = "+"
        let first = try TestSupport.run("/usr/bin/env", stamped)
        let (stamp, answer) = RememberedProbe.split(CommandOutput(status: first.status, stdout: first.stdout))
        XCTAssertEqual(answer.stdout, query.stdout)
        let told = try XCTUnwrap(stamp, first.stdout)
        XCTAssertTrue(told.hasPrefix("\(try XCTUnwrap(FileManager.default.attributesOfItem(atPath: "/var/lib/dpkg/status")[.systemFileNumber] as? Int)) "), told)
        stamped[4] = told
        XCTAssertEqual(try TestSupport.run("/usr/bin/env", stamped).stdout, "@same\n")
        stamped[4] = told + "0"
        XCTAssertEqual(try TestSupport.run("/usr/bin/env", stamped).stdout, first.stdout, "another stamp: the whole listing again")
        let policy = try TestSupport.run("/usr/bin/env", self.policy(["dpkg"]))
        let blocks = PackageManager.policies(policy.stdout)
        XCTAssertEqual(blocks.first?.name, "dpkg")
        XCTAssertEqual(blocks.first?.installed, installed["dpkg"]?.version)
    }

    // MARK: dnf

    func testDnfHostInstallsMissing() throws {
        let module = try package(["name": ["podman", "vim", "jq"], "update_cache": true])
        XCTAssertEqual(module.observations(dnf), [.command(rpm(["podman", "vim", "jq"]))])
        let plan = try F.plan(module, commands: [rpm(["podman", "vim", "jq"]): F.ok("vim\tvim-enhanced\t9.1.0-1.fc40\n")], context: dnf)
        XCTAssertEqual(plan.summaries, ["install podman, jq"])
        XCTAssertEqual(plan.steps.map(\.command), [Command(["dnf", "makecache"])])
        XCTAssertEqual(plan.actions, [.run(Command(["dnf", "install", "-y", "podman", "jq"]))])
        XCTAssertEqual(plan.result["pkg_mgr"], "dnf")
    }

    func testDnf5FactIsDnf() {
        XCTAssertEqual(PackageManager(facts: ValueDict([("pkg_mgr", "dnf5")])), .dnf)
        XCTAssertEqual(PackageManager(facts: ValueDict([("pkg_mgr", "apt")])), .apt)
        XCTAssertNil(PackageManager(facts: ValueDict([("pkg_mgr", "yum")])))
    }

    func testDnfLatestInstallsMissingAndUpgradesOutdated() throws {
        let names = ["podman", "vim", "jq", "bash"]
        let module = try package(["name": .list(names.map { .string($0) }), "state": "latest"])
        XCTAssertEqual(module.observations(dnf), [.command(rpm(names)), .command(checkUpdate(names))])
        let updates = """

            vim-enhanced.x86_64                2:9.1.0-2.fc40                 updates
            podman.x86_64                      5:5.2.0-1.fc40                 updates

            Obsoleting Packages
            bash.x86_64                        5.3-1.fc40                     updates
            """
        let plan = try F.plan(module, commands: [
            rpm(names): F.ok("podman\tpodman\t5.1.0-1.fc40\nvim\tvim-enhanced\t9.1.0-1.fc40\nbash\tbash\t5.2-1.fc40\n"),
            checkUpdate(names): CommandOutput(status: 100, stdout: updates),
        ], context: dnf)
        // dnf install leaves installed packages as they are, so the outdated ones get dnf upgrade (by the package's own name).
        XCTAssertEqual(plan.summaries, ["install jq; upgrade podman, vim"])
        XCTAssertEqual(plan.actions, [.run(Command(["dnf", "install", "-y", "jq"])),
                                      .run(Command(["dnf", "upgrade", "-y", "podman", "vim-enhanced"]))])
        XCTAssertEqual(plan.changes.first?.diff?.after, "jq: installed\npodman: 5:5.2.0-1.fc40\nvim: 2:9.1.0-2.fc40\n")
    }

    func testDnfLatestWithoutUpdatesIsNoChange() throws {
        let module = try package(["name": "podman", "state": "latest"])
        let plan = try F.plan(module, commands: [rpm(["podman"]): F.ok("podman\tpodman\t5.1.0-1.fc40\n"),
                                                 checkUpdate(["podman"]): F.ok("")], context: dnf)
        XCTAssertFalse(plan.isChanged)
    }

    func testDnfCheckUpdateFailureFails() throws {
        let module = try package(["name": "podman", "state": "latest"])
        let plan = try F.plan(module, commands: [rpm(["podman"]): F.ok("podman\tpodman\t5.1.0-1.fc40\n"),
                                                 checkUpdate(["podman"]): F.failed(1, "", "Error: Failed to download metadata for repo 'fedora'\n")],
                              context: dnf)
        XCTAssertEqual(plan.failure, "dnf check-update failed (exit 1): Error: Failed to download metadata for repo 'fedora'")
    }

    func testDnfAbsentRemovesTheProvidingPackage() throws {
        let module = try package(["name": ["vim", "jq"], "state": "absent"])
        let plan = try F.plan(module, commands: [rpm(["vim", "jq"]): F.ok("vim\tvim-enhanced\t9.1.0-1.fc40\n")], context: dnf)
        XCTAssertEqual(plan.summaries, ["remove vim-enhanced"])
        XCTAssertEqual(plan.actions, [.run(Command(["dnf", "remove", "-y", "vim-enhanced"]))])
    }

    /// The rpm script against a stand-in rpm that answers like the real one (status 1 and a
    /// message on stdout for what it does not have).
    func testRpmScriptAsksForNamesThenProvides() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("provision-rpm-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let fake = folder.appendingPathComponent("rpm")
        try Data("""
            #!/bin/sh
            [ "$1 $2 $3" = "-q --qf %{NAME}\\t%{VERSION}-%{RELEASE}\\n" ] && case $4 in
              bash) printf 'bash\\t5.2-1.fc40\\n'; exit 0;;
              kernel) printf 'kernel\\t6.1-1\\nkernel\\t6.2-1\\n'; exit 0;;
            esac
            [ "$2 $5" = "--whatprovides vim" ] && { printf 'vim-enhanced\\t9.1-1.fc40\\n'; exit 0; }
            echo "package ${4:-$5} is not installed"; exit 1

            """.utf8).write(to: fake)
        chmod(fake.path, 0o755)
        let run = try TestSupport.run("/bin/sh", Array(rpm(["bash", "nosuch", "vim", "kernel", "it's"]).dropFirst()),
                                      environment: ["PATH": folder.path + ":/usr/bin:/bin"])
        XCTAssertEqual(run.status, 0)
        XCTAssertEqual(run.stdout, "bash\tbash\t5.2-1.fc40\nvim\tvim-enhanced\t9.1-1.fc40\nkernel\tkernel\t6.1-1\n")
        let parsed = try PackageManager.dnf.parseInstalled(CommandOutput(status: 0, stdout: run.stdout), ["bash", "vim", "kernel"]).get()
        XCTAssertEqual(parsed["vim"], PackageManager.Installed(package: "vim-enhanced", version: "9.1-1.fc40", status: "ii "))
        XCTAssertEqual(parsed["kernel"]?.version, "6.1-1")
    }

    // MARK: Hosts without apt or dnf, and names

    func testUnknownPackageManagerFailsClearly() throws {
        let yum = ModuleContext(facts: ValueDict([("pkg_mgr", "zypper")]))
        let module = try package(["name": "curl"])
        XCTAssertEqual(module.observations(yum), [])
        XCTAssertEqual(try F.plan(module, context: yum).failure,
                       "no supported package manager (apt or dnf) on this host; facts say pkg_mgr=zypper")
        XCTAssertEqual(try F.plan(module, context: ModuleContext()).failure,
                       "no supported package manager (apt or dnf) on this host; facts say pkg_mgr=(not gathered: enable gather_facts)")
    }

    func testNamesAreMappedToTheHostsFamily() throws {
        // Debian's uidmap holds newuidmap; Fedora ships it in shadow-utils.
        let onDnf = try F.plan(try package(["name": ["uidmap", "podman"]]),
                               commands: [rpm(["shadow-utils", "podman"]): F.ok("shadow-utils\tshadow-utils\t4.15.1-1.fc40\n")], context: dnf)
        XCTAssertEqual(onDnf.actions, [.run(Command(["dnf", "install", "-y", "podman"]))])
        XCTAssertEqual(onDnf.result["name"], ["shadow-utils", "podman"])
        let onApt = try F.plan(try package(["name": ["shadow-utils", "uidmap"]]),
                               commands: [dpkg(["uidmap"]): dpkgAnswer([])], context: apt)
        XCTAssertEqual(onApt.actions, [aptInstall(["uidmap"])])
        XCTAssertEqual(onApt.result["name"], ["uidmap"])
    }

    func testRemovingThroughABroaderEquivalentIsRefused() throws {
        let plan = try F.plan(try package(["name": "uidmap", "state": "absent"]),
                              commands: [rpm(["shadow-utils"]): F.ok("shadow-utils\tshadow-utils\t4.15.1-1.fc40\n")], context: dnf)
        XCTAssertEqual(plan.failure, "uidmap is shadow-utils on this host, which holds much more than newuidmap and newgidmap; "
            + "refusing to remove it (name shadow-utils explicitly if that is really wanted)")
        // The narrower direction is fine: on Debian, shadow-utils' newuidmap is uidmap.
        let apt = try F.plan(try package(["name": "shadow-utils", "state": "absent"]),
                             commands: [dpkg(["uidmap"]): dpkgAnswer(["uidmap\tii \t1:4.13\tamd64"])], context: apt)
        XCTAssertEqual(apt.summaries, ["remove uidmap"])
    }
}
