import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

/// git, pip and unarchive: observed state in, plan out (and, for their steps, what their output means).
final class ModuleSourcesTests: XCTestCase {
    typealias F = ModuleFixture

    let main = "1111111111111111111111111111111111111111", dev = "2222222222222222222222222222222222222222"
    let tag = "3333333333333333333333333333333333333333", tagObject = "4444444444444444444444444444444444444444"

    func git(_ arguments: KeyValuePairs<String, Value>) throws -> GitModule { try F.make(GitModule.self, arguments) }

    func remote(_ version: String = "HEAD") -> String {
        "remote\tref: refs/heads/main\tHEAD\nremote\t\(main)\tHEAD\n"
            + (version == "dev" ? "remote\t\(dev)\trefs/heads/dev\n" : "")
            + (version == "v1" ? "remote\t\(tagObject)\trefs/tags/v1\nremote\t\(tag)\trefs/tags/v1^{}\n" : "")
            + "ls-remote\t0\n"
    }

    // MARK: git

    func testAMissingCheckoutIsClonedAtTheRemotesCommit() throws {
        let module = try git(["repo": "/srv/repo.git", "dest": "/opt/app", "depth": 1])
        XCTAssertEqual(module.repo, "file:///srv/repo.git", "an absolute path is a file:// URL, as in Ansible")
        let plan = try F.plan(module, commands: [module.probe.argv: F.ok(remote())])
        XCTAssertEqual(plan.result["before"], .null)
        XCTAssertEqual(plan.result["after"], .string(main))
        XCTAssertEqual(plan.actions.first, .run(Command(["git", "clone", "--origin", "origin", "--depth", "1", "--no-single-branch", "--branch", "main",
                                                         "--", "file:///srv/repo.git", "/opt/app"], environment: module.environment)))
        let noClone = try F.plan(try git(["repo": "r", "dest": "/opt/app", "clone": false]),
                                 commands: [try git(["repo": "r", "dest": "/opt/app", "clone": false]).probe.argv: F.ok(remote())])
        XCTAssertFalse(noClone.isChanged)
    }

    func testACheckoutAtTheRemotesCommitIsLeftAlone() throws {
        let module = try git(["repo": "https://h/app.git", "dest": "/opt/app"])
        let plan = try F.plan(module, commands: [module.probe.argv: F.ok("head\t\(main)\nurl\thttps://h/app.git/\nlocal\t\n" + remote())])
        XCTAssertFalse(plan.isChanged, "a trailing slash is the same URL")
        XCTAssertEqual(plan.result["before"], .string(main))
        XCTAssertEqual(plan.result["after"], .string(main))
        XCTAssertEqual(plan.result["remote_url_changed"], false)
    }

    func testHeadMovesToABranchOrATagsCommit() throws {
        let module = try git(["repo": "https://h/app.git", "dest": "/opt/app", "version": "dev"])
        let plan = try F.plan(module, commands: [module.probe.argv: F.ok("head\t\(main)\nurl\thttps://h/app.git\n" + remote("dev"))])
        XCTAssertEqual(plan.result["after"], .string(dev))
        XCTAssertEqual(plan.actions.map { if case .run(let c) = $0 { return Array(c.argv.dropFirst(3)) } else { return [] } }, [
            ["fetch", "origin", "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"],
            ["checkout", "--force", "-B", "dev", "origin/dev"], ["reset", "--hard", "origin/dev"], ["git"],
        ])
        let tagged = try git(["repo": "https://h/app.git", "dest": "/opt/app", "version": "v1"])
        let atTag = try F.plan(tagged, commands: [tagged.probe.argv: F.ok("head\t\(tag)\nurl\thttps://h/app.git\n" + remote("v1"))])
        XCTAssertFalse(atTag.isChanged, "an annotated tag is compared by the commit it points at")
        XCTAssertEqual(atTag.result["after"], .string(tag))
    }

    func testLocalModificationsAndAMovedRemote() throws {
        let module = try git(["repo": "https://h/new.git", "dest": "/opt/app"])
        let state = "head\t\(dev)\nurl\thttps://h/old.git\nmodified\t M README\n" + remote()
        XCTAssertEqual(try F.plan(module, commands: [module.probe.argv: F.ok(state)]).failure,
                       "Local modifications exist in the destination: /opt/app (force=no).")
        let forced = try git(["repo": "https://h/new.git", "dest": "/opt/app", "force": true])
        let plan = try F.plan(forced, commands: [forced.probe.argv: F.ok(state)])
        XCTAssertEqual(plan.summaries.prefix(2), ["discard local modifications in /opt/app", "remote origin of /opt/app: https://h/old.git -> https://h/new.git"])
        XCTAssertEqual(plan.result["remote_url_changed"], true)
        let occupied = try git(["repo": "r", "dest": "/etc"])
        XCTAssertEqual(try F.plan(occupied, commands: [occupied.probe.argv: F.ok("occupied\n" + remote())]).failure,
                       "destination path '/etc' already exists and is not an empty directory")
        let nogit = try git(["repo": "r", "dest": "/x"])
        XCTAssertEqual(try F.plan(nogit, commands: [nogit.probe.argv: F.ok("nogit\n")]).failure, "the host has no 'git': install git first")
        let unknown = try git(["repo": "r", "dest": "/x", "version": "nope"])
        XCTAssertEqual(try F.plan(unknown, commands: [unknown.probe.argv: F.ok(remote())]).failure,
                       "Failed to find version 'nope' in r: it is no branch or tag there, nor a full commit SHA")
    }

    func testSSHOptionsReachGitThroughItsEnvironment() throws {
        let module = try git(["repo": "git@h:app.git", "dest": "/opt/app", "accept_hostkey": true, "key_file": "/root/.ssh/deploy"])
        XCTAssertEqual(module.environment["GIT_SSH_COMMAND"], "ssh -o StrictHostKeyChecking=no -i '/root/.ssh/deploy' -o IdentitiesOnly=yes")
    }

    // MARK: pip

    func testRequirementsAndVersionsAsPipReadsThem() throws {
        let flask = try XCTUnwrap(PipModule.Requirement("Flask[async]>=2.0,<3; python_version>'3'"))
        XCTAssertEqual(flask.key, "flask")
        XCTAssertTrue(flask.isSatisfied(by: "2.3.1"))
        XCTAssertFalse(flask.isSatisfied(by: "3.0"))
        XCTAssertFalse(flask.isSatisfied(by: nil))
        XCTAssertTrue(try XCTUnwrap(PipModule.Requirement("a~=1.4")).isSatisfied(by: "1.9"))
        XCTAssertFalse(try XCTUnwrap(PipModule.Requirement("a~=1.4")).isSatisfied(by: "2.0"))
        XCTAssertTrue(try XCTUnwrap(PipModule.Requirement("a==1.*")).isSatisfied(by: "1.7.2"))
        XCTAssertFalse(try XCTUnwrap(PipModule.Requirement("a>=1.0")).isSatisfied(by: "1.0rc1"))
        XCTAssertTrue(try XCTUnwrap(PipModule.Requirement("a>1.0")).isSatisfied(by: "1.0.post1"))
        XCTAssertNil(PipModule.Requirement("git+https://h/x.git"))
        XCTAssertNil(PipModule.Requirement("./local"))
        XCTAssertEqual(PipModule.Requirement.normalize("Zope.Interface__x"), "zope-interface-x")
        XCTAssertThrowsError(try F.make(PipModule.self, ["name": ["a", "b"], "version": "1"]))
        XCTAssertThrowsError(try F.make(PipModule.self, ["name": "a>1", "version": "1"]))
        XCTAssertEqual(try F.make(PipModule.self, ["name": "a", "version": "1.2"]).names, ["a==1.2"])
    }

    func testSatisfiedRequirementsCostNothingAndAMissingVirtualenvIsCreated() throws {
        let module = try F.make(PipModule.self, ["name": ["requests>=2", "six"], "virtualenv": "/opt/venv", "virtualenv_command": "python3 -m venv"])
        let installed = try F.plan(module, commands: [module.probe.argv: F.ok("venv\tpresent\npip\t/opt/venv/bin/pip\n@freeze\nrequests==2.31.0\nsix==1.16.0\n")])
        XCTAssertFalse(installed.isChanged)
        let missing = try F.plan(module, commands: [module.probe.argv: F.ok("venv\tpresent\npip\t/opt/venv/bin/pip\n@freeze\nrequests==1.0\n")])
        XCTAssertEqual(missing.summaries, ["pip install requests>=2 six"])
        XCTAssertEqual(missing.actions.first.map { if case .run(let c) = $0 { return c.argv } else { return [] } },
                       ["/opt/venv/bin/pip", "install", "requests>=2", "six", "--disable-pip-version-check"])
        let fresh = try F.plan(module, commands: [module.probe.argv: F.ok("venv\tmissing\n")])
        XCTAssertEqual(fresh.summaries, ["create virtualenv /opt/venv", "pip install requests>=2 six"])
        XCTAssertEqual(fresh.actions.first, .run(Command(["python3", "-m", "venv", "/opt/venv"], directory: "/tmp")))
        XCTAssertEqual(try F.plan(module, commands: [module.probe.argv: F.ok("nopip\n")]).failure,
                       "Unable to find any of pip3, pip to use.  pip needs to be installed.")
    }

    func testLatestAndRequirementFilesAreJudgedByPipItself() throws {
        let latest = try F.make(PipModule.self, ["name": "requests", "state": "latest"])
        let plan = try F.plan(latest, commands: [latest.probe.argv: F.ok("pip\t/usr/bin/pip3\n@freeze\nrequests==2.0\n")])
        let step = try XCTUnwrap(plan.steps.first)
        XCTAssertFalse(step.interpret(StepRun(output: F.ok("Requirement already satisfied: requests\n"))).changed)
        XCTAssertTrue(step.interpret(StepRun(output: F.ok("Successfully installed requests-2.32\n"))).changed)
        let file = try F.make(PipModule.self, ["requirements": "/srv/app/requirements.txt"])
        let byFreeze = try XCTUnwrap(try F.plan(file, commands: [file.probe.argv: F.ok("pip\t/usr/bin/pip3\n@freeze\n")]).steps.first)
        XCTAssertFalse(byFreeze.interpret(StepRun(output: F.ok("ok\n@freeze\na==1\n@freeze\na==1"))).changed)
        XCTAssertTrue(byFreeze.interpret(StepRun(output: F.ok("ok\n@freeze\na==1\n@freeze\na==2"))).changed)
        // In check mode Ansible says changed for these without running pip.
        let check = try F.plan(file, commands: [file.probe.argv: F.ok("pip\t/usr/bin/pip3\n@freeze\n")], context: ModuleContext(checkMode: true))
        XCTAssertTrue(check.isChanged)
        XCTAssertTrue(check.steps.isEmpty)
        let absent = try F.make(PipModule.self, ["name": "six", "state": "absent"])
        XCTAssertFalse(try F.plan(absent, commands: [absent.probe.argv: F.ok("pip\t/usr/bin/pip3\n@freeze\nrequests==2\n")]).isChanged)
    }

    // MARK: unarchive

    func testUnarchiveSendsAControllerArchiveOnStdinAndCompareEvenInCheckMode() throws {
        let module = try F.make(UnarchiveModule.self, ["src": "/ctl/app.tgz", "dest": "/opt", "creates": "/opt/app"])
        let context = ModuleContext(readControllerFile: { _, _ in [1, 2, 3] })
        XCTAssertEqual(try F.plan(module, files: ["/opt/app": F.directory()], context: context).skipReason, "skipped, since /opt/app exists")
        let plan = try F.plan(module, context: context)
        let step = try XCTUnwrap(plan.steps.first)
        XCTAssertEqual(step.command.stdin, [1, 2, 3])
        XCTAssertEqual(step.command.argv[4], "", "the archive comes on stdin")
        XCTAssertTrue(step.runsInCheckMode, "check mode compares too (and touches nothing in dest)")
        let unchanged = step.interpret(StepRun(output: F.ok("handler\tTgzArchive\nrc\t0\nout\t\nerr\t\ncmd\ttar -x\n@files\n@differ\n")))
        XCTAssertFalse(unchanged.changed)
        XCTAssertEqual(unchanged.result["handler"], "TgzArchive")
        let changed = step.interpret(StepRun(output: F.ok("handler\tZipArchive\nrc\t0\n@files\n@differ\napp/a.txt\n")))
        XCTAssertTrue(changed.changed)
        XCTAssertEqual(step.interpret(StepRun(output: F.ok("failure\tDestination '/opt' is not a directory\n"))).failure,
                       "Destination '/opt' is not a directory")
        XCTAssertThrowsError(try F.make(UnarchiveModule.self, ["src": "https://h/a.tgz", "dest": "/opt"]), "a URL needs remote_src")
        XCTAssertThrowsError(try F.make(UnarchiveModule.self, ["src": "a", "dest": "/opt", "include": "x", "exclude": "y"]))
        XCTAssertEqual(try F.make(UnarchiveModule.self, ["src": "/a.tgz", "dest": "/opt", "copy": false]).remote, true)
    }
}
