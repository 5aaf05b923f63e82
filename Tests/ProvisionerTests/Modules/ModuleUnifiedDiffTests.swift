import Foundation
import XCTest
@testable import Provisioner

final class ModuleUnifiedDiffTests: XCTestCase {
    func testEqualTextsGiveNoDiff() {
        XCTAssertEqual(UnifiedDiff.render(before: "a\nb\n", after: "a\nb\n", label: "/x"), "")
        XCTAssertEqual(UnifiedDiff.render(before: "", after: "", label: "/x"), "")
    }

    func testOneChangedLineWithContext() {
        let before = "1\n2\n3\n4\n5\n6\n7\n8\n9\n"
        let after = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n"
        XCTAssertEqual(UnifiedDiff.render(before: before, after: after, label: "/etc/x"), """
            --- before: /etc/x
            +++ after: /etc/x
            @@ -2,7 +2,7 @@
             2
             3
             4
            -5
            +five
             6
             7
             8

            """)
    }

    func testNewFileAndRemovedFile() {
        XCTAssertEqual(UnifiedDiff.render(before: "", after: "a\nb\n", label: "f"), "--- before: f\n+++ after: f\n@@ -0,0 +1,2 @@\n+a\n+b\n")
        XCTAssertEqual(UnifiedDiff.render(before: "a\n", after: "", label: "f"), "--- before: f\n+++ after: f\n@@ -1 +0,0 @@\n-a\n")
    }

    func testMissingFinalNewlineIsMarked() {
        XCTAssertEqual(UnifiedDiff.render(before: "a\nb", after: "a\nb\n", label: "f"), """
            --- before: f
            +++ after: f
            @@ -1,2 +1,2 @@
             a
            -b
            \\ No newline at end of file
            +b

            """)
        XCTAssertEqual(UnifiedDiff.render(before: "a\nb", after: "a\nc", label: "f"), """
            --- before: f
            +++ after: f
            @@ -1,2 +1,2 @@
             a
            -b
            \\ No newline at end of file
            +c
            \\ No newline at end of file

            """)
        // A context line without a newline carries the marker too.
        XCTAssertEqual(UnifiedDiff.render(before: "x\nb", after: "y\nb", label: "f"), """
            --- before: f
            +++ after: f
            @@ -1,2 +1,2 @@
            -x
            +y
             b
            \\ No newline at end of file

            """)
    }

    func testChangesFarApartMakeTwoHunksAndCloseOnesOne() {
        let base = (1...20).map { "line \($0)\n" }
        var far = base
        far[1] = "changed 2\n"
        far[17] = "changed 18\n"
        let twoHunks = UnifiedDiff.render(before: base.joined(), after: far.joined(), label: "f")
        XCTAssertEqual(twoHunks.components(separatedBy: "\n@@ ").count, 3)
        XCTAssertTrue(twoHunks.contains("@@ -1,5 +1,5 @@\n"))
        XCTAssertTrue(twoHunks.contains("@@ -15,6 +15,6 @@\n"))
        var near = base
        near[1] = "changed 2\n"
        near[8] = "changed 9\n"  // six unchanged lines between: still one hunk
        let oneHunk = UnifiedDiff.render(before: base.joined(), after: near.joined(), label: "f")
        XCTAssertTrue(oneHunk.contains("@@ -1,12 +1,12 @@\n"))
        XCTAssertEqual(oneHunk.components(separatedBy: "@@ -").count, 2)
    }

    func testEmptyLabelGivesPlainHeaders() {
        XCTAssertTrue(UnifiedDiff.render(before: "a\n", after: "b\n", label: "").hasPrefix("--- before\n+++ after\n@@ -1 +1 @@\n"))
    }

    /// Hunks must match `diff -u` exactly, including where ambiguous edits land.
    func testHunksMatchDiffUtils() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/diff") else {
            throw XCTSkip("diffutils' diff is not installed")
        }
        var random = SeededRandom(seed: 20_261_122)
        var cases: [(String, String)] = [
            ("a\nb\nc\n", "a\nc\n"), ("x\na\n", "x\na\na\n"), ("a\nx\n", "a\na\nx\n"),
            ("", "only\n"), ("a\nb", "a\nb\n"), ("a\n\n\nb\n", "a\n\nb\n\n"),
            ("l4\nl3\nl1\nl0\nl3\nl3\nl0\nl0\nl1\nl1\nl0\nl4\nl3\nl2\nl4\nl1\nl4\n",
             "l4\nl3\nl4\nl1\nl0\nl3\nl2\nl3\nl3\nl0\nl1\nl1\nl0\nl4\nl3\nl2\nl4\nl1\nl4\n"),
        ]
        for _ in 0..<60 {
            let before = random.text(lines: random.next(40), alphabet: 3 + random.next(6))
            let after = random.next(2) == 0 ? random.edited(before) : random.text(lines: random.next(40), alphabet: 4)
            cases.append((before, after))
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("provision-diff-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let beforeURL = folder.appendingPathComponent("before"), afterURL = folder.appendingPathComponent("after")
        for (before, after) in cases {
            try Data(before.utf8).write(to: beforeURL)
            try Data(after.utf8).write(to: afterURL)
            let result = try TestSupport.run("/usr/bin/diff", ["-u", beforeURL.path, afterURL.path])
            let expected = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(2)
            let mine = UnifiedDiff.render(before: before, after: after, label: "f")
                .split(separator: "\n", omittingEmptySubsequences: false).dropFirst(2)
            XCTAssertEqual(Array(mine), Array(expected), "before:\n\(before)\nafter:\n\(after)")
        }
    }

    func testLargeFilesWithFewChangesAreFast() {
        let base = (0..<50_000).map { "row \($0)\n" }
        var changed = base
        changed[100] = "x\n"
        changed.insert("new\n", at: 30_000)
        changed.remove(at: 45_000)
        let start = Date()
        let diff = UnifiedDiff.render(before: base.joined(), after: changed.joined(), label: "big")
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertEqual(diff.components(separatedBy: "\n@@ ").count, 4)
    }
}

/// A small deterministic generator so failures reproduce.
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(_ bound: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((state >> 33) % UInt64(max(bound, 1)))
    }

    mutating func text(lines: Int, alphabet: Int) -> String {
        var text = (0..<lines).map { _ in "l\(next(alphabet))\n" }.joined()
        if next(5) == 0 && !text.isEmpty { text.removeLast() }
        return text
    }

    mutating func edited(_ text: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for _ in 0...next(6) {
            let at = lines.isEmpty ? 0 : next(lines.count)
            switch next(3) {
            case 0: lines.insert("l\(next(5))", at: at)
            case 1: if !lines.isEmpty { lines.remove(at: at) }
            default: if !lines.isEmpty { lines[at] = "l\(next(5))" }
            }
        }
        return lines.joined(separator: "\n")
    }
}
