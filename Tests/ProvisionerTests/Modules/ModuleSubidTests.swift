import XCTest
@testable import Modules
@testable import Provisioner

/// subid: observed /etc/subuid, /etc/subgid and /etc/login.defs in, the written files out.
final class ModuleSubidTests: XCTestCase {
    typealias F = ModuleFixture

    func subid(_ arguments: KeyValuePairs<String, Value>) throws -> SubidModule { try F.make(SubidModule.self, arguments) }

    func plan(_ module: SubidModule, uid: String?, gid: String?, loginDefs: String? = nil) throws -> Plan {
        var files: [String: FileState] = [:]
        if let uid { files["/etc/subuid"] = F.file(uid) }
        if let gid { files["/etc/subgid"] = F.file(gid) }
        if let loginDefs { files["/etc/login.defs"] = F.file(loginDefs) }
        return try F.plan(module, files: files)
    }

    /// The text written to `path`, or nil when the plan does not write it.
    func written(_ plan: Plan, _ path: String) -> String? {
        for case .writeFile(path, let content, let attributes, _) in plan.actions {
            XCTAssertEqual(attributes, FileAttributes(mode: 0o644, owner: "root", group: "root"))
            return String(decoding: content, as: UTF8.self)
        }
        return nil
    }

    func testMissingFilesGetTheFirstRange() throws {
        let plan = try plan(subid(["name": "alice"]), uid: nil, gid: nil)
        XCTAssertEqual(written(plan, "/etc/subuid"), "alice:100000:65536\n")
        XCTAssertEqual(written(plan, "/etc/subgid"), "alice:100000:65536\n")
        XCTAssertEqual(plan.result["start"], .int(100000))
    }

    func testAnExistingLargeEnoughRangeIsLeftAlone() throws {
        let text = "# ranges\nbob:100000:65536\nalice:300000:70000\n"
        let plan = try plan(subid(["name": "alice"]), uid: text, gid: text)
        XCTAssertFalse(plan.isChanged)
        XCTAssertEqual(plan.result["start"], .int(300000))
    }

    func testAllocationSkipsOverlappingRangesInAnyOrder() throws {
        let uid = "carol:200000:65536\nbob:100000:65536\n#x:1:1\n", gid = "bob:100000:70000\n"
        let plan = try plan(subid(["name": "alice"]), uid: uid, gid: gid)
        // 165536 is free in subuid but bob's gid range runs to 169999; carol's uids run to 265535.
        XCTAssertEqual(written(plan, "/etc/subuid"), uid + "alice:265536:65536\n")
        XCTAssertEqual(written(plan, "/etc/subgid"), gid + "alice:265536:65536\n")
    }

    func testAGapBetweenRangesIsUsedWhenItFits() throws {
        let text = "a:100000:65536\nb:300000:65536\n"
        let plan = try plan(subid(["name": "alice", "count": 1000]), uid: text, gid: text)
        XCTAssertEqual(written(plan, "/etc/subuid"), text + "alice:165536:1000\n")
    }

    func testExhaustedRangesFailWithTheFix() throws {
        let defs = "SUB_UID_MIN 100000\nSUB_UID_MAX 200000\nSUB_GID_MIN 100000\nSUB_GID_MAX 200000\n"
        let text = "a:100000:65536\n"
        let plan = try plan(subid(["name": "alice"]), uid: text, gid: text, loginDefs: defs)
        XCTAssertEqual(plan.failure, "no free range of 65536 ids between 100000 and 200000 in /etc/subuid and /etc/subgid; "
            + "raise SUB_UID_MAX/SUB_GID_MAX in /etc/login.defs, free a range, or give start")
        XCTAssertTrue(plan.changes.isEmpty)
    }

    func testLoginDefsMinimumIsHonoured() throws {
        let plan = try plan(subid(["name": "alice"]), uid: "", gid: "", loginDefs: "# c\nSUB_UID_MIN\t500000\nSUB_GID_MIN 400000\n")
        XCTAssertEqual(written(plan, "/etc/subuid"), "alice:500000:65536\n")
        XCTAssertEqual(written(plan, "/etc/subgid"), "alice:500000:65536\n")
    }

    func testAGivenStartClashingWithAnotherUserFails() throws {
        let text = "bob:100000:65536\n"
        let plan = try plan(subid(["name": "alice", "start": 150000]), uid: text, gid: "")
        XCTAssertEqual(plan.failure, "the range 150000-215535 for alice overlaps bob's range 100000-165535 (/etc/subuid:1); "
            + "choose another start or leave it out")
    }

    func testAGivenStartReplacesTheUsersOtherRanges() throws {
        let text = "alice:100000:100\nbob:200000:10\nalice:300000:5\n"
        let plan = try plan(subid(["name": "alice", "start": 400000]), uid: text, gid: "alice:400000:65536\n")
        XCTAssertEqual(written(plan, "/etc/subuid"), "bob:200000:10\nalice:400000:65536\n")
        XCTAssertNil(written(plan, "/etc/subgid"), "already exactly right")
    }

    func testOnlyTheFileThatLacksTheRangeIsWrittenWithTheSameStart() throws {
        let plan = try plan(subid(["name": "alice"]), uid: "x:100000:65536\nalice:165536:65536\n", gid: "x:100000:65536")
        XCTAssertNil(written(plan, "/etc/subuid"))
        XCTAssertEqual(written(plan, "/etc/subgid"), "x:100000:65536\nalice:165536:65536\n", "final newline added first")
    }

    func testAbsentRemovesOnlyTheUsersLines() throws {
        let text = "# keep\nalice:100000:65536\nbob:165536:65536\n"
        let plan = try plan(subid(["name": "alice", "state": "absent", "files": "subuid"]), uid: text, gid: nil)
        XCTAssertEqual(written(plan, "/etc/subuid"), "# keep\nbob:165536:65536\n")
        XCTAssertEqual(plan.changes.count, 1)
        XCTAssertFalse(try self.plan(subid(["name": "carol", "state": "absent"]), uid: text, gid: text).isChanged)
    }

    func testBadArgumentsAreRefused() throws {
        XCTAssertThrowsError(try subid(["name": "a:b"])) { XCTAssertEqual(($0 as? ModuleError)?.argument, "name") }
        XCTAssertThrowsError(try subid(["name": "a", "count": 0])) { XCTAssertEqual(($0 as? ModuleError)?.argument, "count") }
        XCTAssertThrowsError(try subid(["name": "a", "start": 4_294_967_000])) { XCTAssertEqual(($0 as? ModuleError)?.argument, "start") }
    }
}
