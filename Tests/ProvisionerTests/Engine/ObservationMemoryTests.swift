import Foundation
import XCTest
@testable import Provisioner

/// Remembered probes: the controller keeps a costly probe's answer with the stamp the host gave for it;
/// the next run sends the stamp, and the host answers `@same` (the kept answer stands) or runs the probe.
final class ObservationMemoryTests: XCTestCase {
    /// A stand-in probe: its stamp is the content of `state`; each full answer adds a line to `answered`.
    static let probe = #"""
    expected=$1 dir=$2 status=${3:-0}
    read -r now <"$dir/state"
    [ "$expected" = "$now" ] && { echo @same; exit 0; }
    echo x >>"$dir/answered"
    printf '@stamp %s\n' "$(printf '%s' "$now" | base64 -w0)"
    echo "answer $now"
    exit "$status"
    """#

    func memory(_ scratch: Scratch, user: String = "") throws -> ObservationMemory {
        try XCTUnwrap(ObservationMemory(host: "local", user: user, environment: ["XDG_CACHE_HOME": scratch.path("cache")]))
    }

    func answered(_ scratch: Scratch) -> Int { scratch.read("answered")?.split(separator: "\n").count ?? 0 }

    func testAnUnchangedStampIsAnsweredFromTheMemoryAndAChangedOneByTheProbe() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("state", "one\n")
        let argv = RememberedProbe.command(Self.probe, [scratch.path])
        let other = Observation.file(path: scratch.path("state"), content: true)
        var first = try memory(scratch)
        let observed = try first.observe([.command(argv), other], via: LocalTransport())
        XCTAssertEqual(observed.command(argv), CommandOutput(status: 0, stdout: "answer one\n"), "the stamp line is not part of the answer")
        XCTAssertEqual(observed.files[scratch.path("state")]?.content, Array("one\n".utf8), "other observations pass through")
        XCTAssertEqual(answered(scratch), 1)
        let attributes = try FileManager.default.attributesOfItem(atPath: first.file)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)

        // The next run (a new memory read from the file): the host says @same, the kept answer is the answer.
        var next = try memory(scratch)
        XCTAssertEqual(try next.observe([.command(argv)], via: LocalTransport()).command(argv)?.stdout, "answer one\n")
        XCTAssertEqual(answered(scratch), 1, "the probe did not run its costly part")

        try scratch.write("state", "two\n")
        XCTAssertEqual(try next.observe([.command(argv)], via: LocalTransport()).command(argv)?.stdout, "answer two\n")
        XCTAssertEqual(answered(scratch), 2)
        var third = try memory(scratch)
        XCTAssertEqual(try third.observe([.command(argv)], via: LocalTransport()).command(argv)?.stdout, "answer two\n")
        XCTAssertEqual(answered(scratch), 2)

        // Another user's answers are their own.
        var alice = try memory(scratch, user: "alice")
        XCTAssertNotEqual(alice.file, next.file)
        XCTAssertEqual(try alice.observe([.command(argv)], via: LocalTransport()).command(argv)?.stdout, "answer two\n")
        XCTAssertEqual(answered(scratch), 3)
    }

    func testAFailedAnswerIsNotKept() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("state", "one\n")
        let argv = RememberedProbe.command(Self.probe, [scratch.path, "3"])
        for run in 1...2 {
            var memory = try memory(scratch)
            XCTAssertEqual(try memory.observe([.command(argv)], via: LocalTransport()).command(argv)?.status, 3)
            XCTAssertEqual(answered(scratch), run, "a failed answer is asked for again")
        }
    }

    func testTheStampLineIsTakenOffWhereTheProbeRanWithoutTheMemory() {
        let told = CommandOutput(status: 0, stdout: "@stamp \(Data("s\n1".utf8).base64EncodedString())\n[]\n")
        XCTAssertEqual(RememberedProbe.split(told).stamp, "s\n1")
        XCTAssertEqual(RememberedProbe.split(told).answer.stdout, "[]\n")
        let plain = CommandOutput(status: 0, stdout: "missing\n")
        XCTAssertNil(RememberedProbe.split(plain).stamp)
        XCTAssertEqual(RememberedProbe.split(plain).answer, plain)
    }
}
