import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

/// The bundle's Debian packages without a network: the release a bundle is for, its repository's Release and
/// Packages, the offline check of the play's names, and the package module's offline plans.
final class BundlePackagesTests: XCTestCase {
    typealias F = ModuleFixture

    let bookworm = PackageTarget(distribution: "debian", version: "12", codename: "bookworm", architecture: "amd64")

    func facts(_ version: String, _ codename: String, arch: String = "x86_64", pkg: String = "apt") -> ValueDict {
        ValueDict([("pkg_mgr", .string(pkg)), ("os_family", "Debian"), ("distribution", "Debian"),
                   ("distribution_version", .string(version)), ("distribution_major_version", .string(version)),
                   ("distribution_release", .string(codename)), ("architecture", .string(arch))])
    }

    func offline(_ facts: ValueDict, names: Set<String> = ["jq", "libjq1", "libonig5"], local: Bool = true) -> ModuleContext {
        var context = ModuleContext(facts: facts)
        context.offline = true
        var packages = OfflinePackages(repository: "/media/usb/bundle/packages", target: bookworm, names: names)
        packages.onThisMachine = local
        context.offlinePackages = packages
        return context
    }

    let dpkgJq = PackageManager.dpkgListing
    let jqAbsent = CommandOutput(status: 0, stdout: "bash\tii \t5.2.15-2+b8\tamd64\tshells\tDebian\n")

    // MARK: The release

    func testPackagesForNamesADebianReleaseByNumberOrCodenameAndRefusesOthersClearly() throws {
        XCTAssertEqual(try PackageTarget.parse("debian:13", architecture: "amd64"),
                       PackageTarget(distribution: "debian", version: "13", codename: "trixie", architecture: "amd64"))
        XCTAssertEqual(try PackageTarget.parse("Debian:bookworm", architecture: "arm64"),
                       PackageTarget(distribution: "debian", version: "12", codename: "bookworm", architecture: "arm64"))
        XCTAssertThrowsError(try PackageTarget.parse("fedora:41", architecture: "amd64")) { error in
            XCTAssertTrue("\(error)".contains("Fedora/RHEL packages are not bundled (dnf download --resolve is not implemented)"), "\(error)")
        }
        XCTAssertThrowsError(try PackageTarget.parse("debian:9", architecture: "amd64")) { error in
            XCTAssertTrue("\(error)".contains("unknown Debian release; known: 11 (bullseye), 12 (bookworm), 13 (trixie)"), "\(error)")
        }
        XCTAssertThrowsError(try PackageTarget.parse("trixie", architecture: "amd64")) { error in
            XCTAssertTrue("\(error)".contains("give DISTRIBUTION:RELEASE"), "\(error)")
        }
    }

    func testConnectedMachineIsReadFromOsRelease() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = scratch.path("os-release")
        try "PRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\nID=debian\nVERSION_ID=\"13\"\nVERSION_CODENAME=trixie\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        guard TestSupport.which("dpkg") != nil else { throw XCTSkip("dpkg is missing (not a Debian machine)") }
        let target = try PackageTarget.connectedMachine(osRelease: file)
        XCTAssertEqual([target.distribution, target.version, target.codename], ["debian", "13", "trixie"])
        try "ID=debian\nPRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PackageTarget.connectedMachine(osRelease: file)) { error in
            XCTAssertTrue("\(error)".contains("give the release to bundle packages for with --packages-for debian:13"), "\(error)")
        }
    }

    func testHostMatchesTheBundlesReleaseAndArchitectureOnly() {
        XCTAssertNil(bookworm.mismatch(facts: facts("12", "bookworm")))
        XCTAssertEqual(bookworm.mismatch(facts: facts("13", "trixie")), "debian 13 (trixie, amd64)")
        XCTAssertEqual(bookworm.mismatch(facts: facts("12", "bookworm", arch: "aarch64")), "debian 12 (bookworm, arm64)")
        XCTAssertNotNil(bookworm.mismatch(facts: ValueDict([("distribution", "Ubuntu"), ("distribution_release", "bookworm"),
                                                           ("architecture", "x86_64")])))
    }

    // MARK: The repository

    func testReleaseRecordsTheReleaseAndPackagesChecksum() {
        let packages = Array("Package: jq\nVersion: 1.6\n\nPackage: libjq1\nVersion: 1.6\n".utf8)
        let release = PackageCollector.release(packages: packages, target: bookworm)
        XCTAssertTrue(release.contains("Codename: bookworm\n"), release)
        XCTAssertTrue(release.hasSuffix("SHA256:\n \(SHA256.hex(packages)) \(packages.count) Packages\n"), release)
        XCTAssertEqual(OfflinePackages.names(inPackagesFile: String(decoding: packages, as: UTF8.self)), ["jq", "libjq1"])
    }

    func testReleaseDateIsRFC2822InUTC() {
        // 2026-12-03 06:00:00 UTC was a Thursday.
        let release = PackageCollector.release(packages: [], target: bookworm, date: 1_796_277_600)
        XCTAssertTrue(release.contains("Date: Thu, 03 Dec 2026 06:00:00 UTC\n"), release)
    }

    func testContentsLineRoundTripsTheRelease() {
        let text = OfflineBundle.contentsText(images: [:], urls: [:], packages: (bookworm, "packages/Packages"))
        XCTAssertEqual(text, "packages debian 12 bookworm amd64\tpackages/Packages\n")
        XCTAssertEqual(PackageTarget(contentsKey: "debian 12 bookworm amd64"), bookworm)
    }

    func testOfflineCheckNamesEveryPackageTheBundleLacks() {
        let location = SourceLocation(file: "site.yml", line: 5, column: 7)
        let need = NetworkNeed(kind: .packages(["jq", "sl", "cowsay"], recommends: false), module: "package", location: location)
        var bundle = OfflineBundle(directory: "/b")
        XCTAssertEqual(bundle.missing([need]), ["site.yml:5:7: offline: package jq, sl, cowsay is not in the bundle"])
        bundle.packages = OfflinePackages(repository: "/b/packages", target: bookworm, names: ["jq", "libjq1"])
        XCTAssertEqual(bundle.missing([need]), ["site.yml:5:7: offline: package sl, cowsay is not in the bundle"])
        let held = NetworkNeed(kind: .packages(["jq"], recommends: true), module: "package", location: location)
        XCTAssertEqual(bundle.missing([held]), [])
    }

    // MARK: The package module offline

    func testOfflineInstallReadsTheBundlesRepositoryOnly() throws {
        let module = try F.make(PackageModule.self, ["name": "jq", "update_cache": true, "install_recommends": false])
        let plan = try F.plan(module, commands: [dpkgJq: jqAbsent], context: offline(facts("12", "bookworm")))
        XCTAssertNil(plan.failure)
        XCTAssertTrue(plan.steps.isEmpty, "offline there is no index to refresh: \(plan.steps.map(\.summary))")
        XCTAssertEqual(plan.summaries, ["install jq"])
        guard case .run(let command)? = plan.actions.first else { return XCTFail("\(plan.actions)") }
        XCTAssertEqual(Array(command.argv.prefix(5)), ["/bin/sh", "-c", PackageManager.offlineScript, "sh", "/media/usb/bundle/packages"])
        XCTAssertEqual(Array(command.argv.dropFirst(5).prefix(2)), ["apt-get", "install"])
        XCTAssertTrue(command.argv.contains("--no-install-recommends"))
        XCTAssertEqual(command.argv.last, "jq")
        XCTAssertEqual(command.environment["DEBIAN_FRONTEND"], "noninteractive")
        XCTAssertTrue(PackageManager.offlineScript.contains("deb [trusted=yes] file:$d/repo ./"))
        XCTAssertTrue(PackageManager.offlineScript.contains("Dir::Etc::SourceParts=$d/parts"), "the host's own sources are not read")
    }

    func testOfflineTheIndexIsNotRefreshedWithOrWithoutBundledPackages() throws {
        let module = try F.make(PackageModule.self, ["name": "jq", "update_cache": true, "cache_valid_time": 3600])
        let installed = CommandOutput(status: 0, stdout: "jq\tii \t1.6-2.1+deb12u3\tamd64\n")
        let stale = F.ok("1700000000\n1700003601\n")
        let online = try F.plan(module, commands: [dpkgJq: installed, PackageManager.aptCacheAge: stale], context: ModuleContext(facts: facts("12", "bookworm")))
        XCTAssertEqual(online.steps.map(\.summary), ["refresh the package index"], "the control: online a stale index is refreshed")
        var noPackages = ModuleContext(facts: facts("12", "bookworm"))
        noPackages.offline = true
        for context in [noPackages, offline(facts("12", "bookworm"))] {
            XCTAssertFalse(module.observations(context).contains(.command(PackageManager.aptCacheAge)))
            let plan = try F.plan(module, commands: [dpkgJq: installed], context: context)
            XCTAssertNil(plan.failure)
            XCTAssertTrue(plan.steps.isEmpty && plan.changes.isEmpty, "no mirror answers offline: \(plan.steps.map(\.summary))")
        }
    }

    func testOfflineInstalledPackageIsUnchanged() throws {
        let module = try F.make(PackageModule.self, ["name": "jq"])
        let plan = try F.plan(module, commands: [dpkgJq: CommandOutput(status: 0, stdout: "jq\tii \t1.6-2.1+deb12u3\tamd64\n")],
                              context: offline(facts("12", "bookworm")))
        XCTAssertNil(plan.failure)
        XCTAssertTrue(plan.changes.isEmpty)
    }

    func testOfflineRefusesWhatTheBundleCannotInstallBeforeAnythingChanges() throws {
        let module = try F.make(PackageModule.self, ["name": "jq"])
        let absent = try F.plan(module, commands: [dpkgJq: jqAbsent], context: offline(facts("12", "bookworm"), names: ["libjq1"]))
        XCTAssertEqual(absent.failure, "offline: package jq is not in the bundle")
        let trixie = try F.plan(module, commands: [dpkgJq: jqAbsent], context: offline(facts("13", "trixie")))
        XCTAssertEqual(trixie.failure, "offline: the bundle's packages are for debian 12 (bookworm, amd64) and this host runs debian 13 (trixie, amd64): "
                                        + "make the bundle for this host's release (provision bundle --packages-for debian:13)")
        let remote = try F.plan(module, commands: [dpkgJq: jqAbsent], context: offline(facts("12", "bookworm"), local: false))
        XCTAssertTrue(remote.failure?.contains("copy the bundle to the host and run its install.sh there") == true, remote.failure ?? "")
        let upgrade = try F.plan(try F.make(PackageModule.self, ["upgrade": "dist"]), context: offline(facts("12", "bookworm")))
        XCTAssertTrue(upgrade.failure?.hasPrefix("offline: upgrade (of the whole system) needs the package mirror") == true, upgrade.failure ?? "")
    }

    func testOfflineLatestAsksTheBundleForTheCandidate() throws {
        let module = try F.make(PackageModule.self, ["name": "jq", "state": "latest"])
        let context = offline(facts("12", "bookworm"))
        let probe = ["env", "LC_ALL=C", "/bin/sh", "-c", PackageManager.offlineScript, "sh", "/media/usb/bundle/packages", "apt-cache", "policy", "jq"]
        XCTAssertEqual(module.observations(context), [.command(dpkgJq), .command(probe)])
        let plan = try F.plan(module, commands: [
            dpkgJq: CommandOutput(status: 0, stdout: "jq\tii \t1.6-2.1\tamd64\n"),
            probe: CommandOutput(status: 0, stdout: "jq:\n  Installed: 1.6-2.1\n  Candidate: 1.6-2.1+deb12u3\n"),
        ], context: context)
        XCTAssertEqual(plan.summaries, ["upgrade jq"])
    }
}

/// `install.sh --dry-run`'s marks: which planned actions need root, judged from real folders' owners and modes.
final class RootNeedTests: XCTestCase {
    func testFoldersOwnersAndSystemProgramsTellWhatNeedsRoot() throws {
        guard getuid() == 0 else { throw XCTSkip("the folders are made root's and another user's: run the tests as root") }
        let scratch = try Scratch()
        defer { scratch.remove() }
        let user = RootNeed(uid: 54_321, gids: [54_321])
        let rootOwned = scratch.path("opt")
        let shared = scratch.path("shared")
        let mine = scratch.path("mine")
        for (folder, mode, owner) in [(rootOwned, 0o755, uid_t(0)), (shared, 0o1777, uid_t(0)), (mine, 0o755, uid_t(54_321))] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            XCTAssertEqual(chmod(folder, mode_t(mode)), 0)
            XCTAssertEqual(chown(folder, owner, 0), 0)
        }
        XCTAssertEqual(chmod(scratch.path, 0o755), 0)
        let write = { (path: String) in Action.writeFile(path: path, content: [1], attributes: FileAttributes(), backup: false) }
        XCTAssertEqual(user.reason(write(rootOwned + "/bin/ollama"), become: nil), "\(rootOwned) is not writable by uid 54321")
        XCTAssertNil(user.reason(write(shared + "/x"), become: nil))
        XCTAssertNil(user.reason(write(mine + "/a/b/c"), become: nil))
        XCTAssertEqual(user.reason(.makeDirectory(path: mine + "/models", attributes: FileAttributes(owner: "root")), become: nil),
                       "it is owned by root")
        XCTAssertEqual(user.reason(.setAttributes(path: rootOwned, attributes: FileAttributes(mode: 0o700)), become: nil),
                       "\(rootOwned) is not yours")
        XCTAssertEqual(user.reason(.run(Command(["useradd", "--system", "ollama"])), become: nil), "useradd changes the system")
        XCTAssertEqual(user.reason(.run(Command(["/bin/sh", "-c", "…"], label: "apt-get install -y jq (from the bundle)")), become: nil),
                       "apt-get changes the system")
        XCTAssertEqual(user.reason(.run(Command(["systemctl", "daemon-reload"])), become: nil), "systemctl manages the system's services")
        XCTAssertNil(user.reason(.run(Command(["systemctl", "--user", "daemon-reload"])), become: nil))
        XCTAssertNil(user.reason(.run(Command(["touch", mine + "/x"])), become: nil))
        XCTAssertEqual(user.reason(.run(Command(["true"])), become: "root"), "the task becomes root")
        // Root itself (no SUDO_UID) is judged as any other user: root's folders need root.
        XCTAssertEqual(RootNeed(uid: nil).reason(write(rootOwned + "/x"), become: nil), "\(rootOwned) is not writable by a user other than root")
        XCTAssertNil(RootNeed(uid: nil).reason(write(mine + "/x"), become: nil))
    }
}
