import Foundation
import XCTest
@testable import Provisioner

/// Runs toml-test's TOML 1.0 selection in process. The suite lives beside the
/// project (`../shared/conformance/toml-suite`) and is never copied into it.
final class TOMLConformanceTests: XCTestCase {
    private func suite() throws -> URL {
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let conformance = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance")
        guard FileManager.default.fileExists(atPath: conformance.path) else {
            throw XCTSkip("toml-test suite not found: \(conformance.path) does not exist "
                + "(it sits beside the project checkout, at ../shared/conformance)")
        }
        return conformance.appendingPathComponent("toml-suite")
    }

    private func cases(_ folder: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "toml" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    func testValidCasesRenderTheExpectedTaggedJSON() throws {
        let valid = try cases(try suite().appendingPathComponent("valid"))
        XCTAssertFalse(valid.isEmpty)
        var failures: [String] = []
        for file in valid {
            let name = file.lastPathComponent
            let expectedData = try Data(contentsOf: file.deletingPathExtension().appendingPathExtension("json"))
            let expected = try JSONSerialization.jsonObject(with: expectedData, options: [.fragmentsAllowed])
            do {
                let json = try TOMLTaggedJSON.render(Array(try Data(contentsOf: file)), file: name)
                let got = try JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed])
                if let difference = TaggedJSON.difference(expected, got) { failures.append("\(name): \(difference)") }
            } catch {
                failures.append("\(name): rejected: \(error)")
            }
        }
        XCTAssertEqual(failures, [], "\(failures.count) of \(valid.count) valid cases failed")
    }

    func testInvalidCasesAreRejected() throws {
        let invalid = try cases(try suite().appendingPathComponent("invalid"))
        XCTAssertFalse(invalid.isEmpty)
        var accepted: [String] = []
        for file in invalid {
            do {
                _ = try TOMLTaggedJSON.render(Array(try Data(contentsOf: file)), file: file.lastPathComponent)
                accepted.append(file.lastPathComponent)
            } catch is ParseError {
                continue
            } catch {
                accepted.append("\(file.lastPathComponent): not a ParseError: \(error)")
            }
        }
        XCTAssertEqual(accepted, [], "\(accepted.count) of \(invalid.count) invalid cases were accepted")
    }
}

/// toml-test's comparison (as in yaml_diff.py `toml_diff`): tables by keys, floats
/// by value, date-times as instants, booleans case-insensitively.
private enum TaggedJSON {
    static func difference(_ expected: Any, _ got: Any, at path: String = "$") -> String? {
        if let table = expected as? [String: Any], !isTagged(table) {
            guard let other = got as? [String: Any], !isTagged(other) else { return "\(path): expected a table" }
            guard Set(table.keys) == Set(other.keys) else {
                return "\(path): keys \(table.keys.sorted()) != \(other.keys.sorted())"
            }
            for (key, value) in table {
                if let d = difference(value, other[key] as Any, at: "\(path).\(key)") { return d }
            }
            return nil
        }
        if let array = expected as? [Any] {
            guard let other = got as? [Any], other.count == array.count else { return "\(path): expected \(array.count) items" }
            for (i, (a, b)) in zip(array, other).enumerated() {
                if let d = difference(a, b, at: "\(path)[\(i)]") { return d }
            }
            return nil
        }
        guard let e = expected as? [String: Any], let g = got as? [String: Any], isTagged(g),
              let type = e["type"] as? String, let want = e["value"] as? String,
              let gotType = g["type"] as? String, let have = g["value"] as? String
        else { return "\(path): expected a {type, value} pair, got \(got)" }
        guard type == gotType else { return "\(path): expected type \(type), got \(gotType)" }
        let same: Bool
        switch type {
        case "float":
            let a = want.lowercased(), b = have.lowercased()
            if a.hasSuffix("nan") || b.hasSuffix("nan") {
                same = a.trimmingCharacters(in: CharacterSet(charactersIn: "+-")) == b.trimmingCharacters(in: CharacterSet(charactersIn: "+-"))
            } else {
                same = Double(pythonFloat(a)).flatMap { x in Double(pythonFloat(b)).map { x == $0 } } ?? false
            }
        case "datetime", "datetime-local", "date-local", "time-local":
            same = timeKey(type, have) != nil && timeKey(type, want) == timeKey(type, have)
        case "bool": same = want.lowercased() == have.lowercased()
        default: same = want == have
        }
        return same ? nil : "\(path): expected \(type) \(want), got \(have)"
    }

    private static func isTagged(_ d: [String: Any]) -> Bool { d.count == 2 && d["type"] != nil && d["value"] != nil }

    private static func pythonFloat(_ s: String) -> String { s.replacingOccurrences(of: "_", with: "") }

    /// Comparable numbers for a date-time: offset date-times become UTC instants.
    private static func timeKey(_ type: String, _ s: String) -> [Int]? {
        let chars = Array(s.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= chars.count else { return nil }
            return Int(String(decoding: chars[range], as: UTF8.self))
        }
        func time(from i: Int) -> (fields: [Int], end: Int)? {
            guard let h = number(i..<i + 2), let m = number(i + 3..<i + 5), let sec = number(i + 6..<i + 8) else { return nil }
            var end = i + 8
            var nanos = 0
            if end < chars.count, chars[end] == UInt8(ascii: ".") {
                var digits = ""
                end += 1
                while end < chars.count, (48...57).contains(chars[end]) {
                    digits.append(Character(Unicode.Scalar(chars[end])))
                    end += 1
                }
                nanos = Int(String((digits + "000000000").prefix(9))) ?? 0
            }
            return ([h, m, sec, nanos], end)
        }
        if type == "time-local" {
            guard let t = time(from: 0), t.end == chars.count else { return nil }
            return t.fields
        }
        guard let y = number(0..<4), let mo = number(5..<7), let d = number(8..<10) else { return nil }
        if type == "date-local" { return chars.count == 10 ? [y, mo, d] : nil }
        guard let t = time(from: 11) else { return nil }
        let rest = String(decoding: chars[t.end...], as: UTF8.self)
        if type == "datetime-local" { return rest.isEmpty ? [y, mo, d] + t.fields : nil }
        var offset = 0
        if rest != "Z" && rest != "z" {
            let o = Array(rest.utf8)
            guard o.count == 6, let oh = Int(String(decoding: o[1..<3], as: UTF8.self)),
                  let om = Int(String(decoding: o[4..<6], as: UTF8.self)) else { return nil }
            offset = (o[0] == UInt8(ascii: "-") ? -1 : 1) * (oh * 60 + om)
        }
        // Days from the civil date (Howard Hinnant's algorithm), then seconds since the epoch.
        let yy = mo <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
        let seconds = days * 86_400 + t.fields[0] * 3600 + t.fields[1] * 60 + t.fields[2] - offset * 60
        return [seconds, t.fields[3]]
    }
}

/// The suite's files as raw material for the writer, the editor and a mutation fuzzer.
final class TOMLSuitePropertyTests: XCTestCase {
    private func documents(_ kind: String = "valid") throws -> [(name: String, bytes: [UInt8])] {
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let folder = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance/toml-suite/\(kind)")
        guard FileManager.default.fileExists(atPath: folder.path) else {
            throw XCTSkip("toml-test suite not found at \(folder.path) (it sits beside the project, at ../shared/conformance)")
        }
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "toml" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
            .map { ($0.lastPathComponent, Array(try Data(contentsOf: $0))) }
    }

    /// Random byte edits of every case: the reader must answer (value or ParseError), never crash or hang.
    func testMutatedInputsAreReadOrRejectedCleanly() throws {
        var random = SplitMix64(seed: 20_240_229)
        let interesting = Array("[]{}=\"'.,#\\\n\r\t _-+:0123456789eExob".utf8) + [0x00, 0x7F, 0x80, 0xC3, 0xFF]
        var accepted = 0, rejected = 0
        for (name, bytes) in try documents("valid") + documents("invalid") {
            for _ in 0..<30 {
                var mutated = bytes
                for _ in 0...random.next(below: 3) {
                    let at = random.next(below: mutated.count + 1)
                    let byte = interesting[random.next(below: interesting.count)]
                    switch random.next(below: 3) {
                    case 0 where at < mutated.count: mutated[at] = byte
                    case 1 where at < mutated.count: mutated.remove(at: at)
                    default: mutated.insert(byte, at: at)
                    }
                }
                do {
                    let document = try TOMLDocument(parsing: mutated, file: name)
                    _ = try TOMLTaggedJSON.render(mutated, file: name)
                    let text = TOMLWriter.body(of: document.root, at: [], newline: "\n")
                    XCTAssertEqual(try TOMLDocument(parsing: text).root, document.root, "\(name): \(mutated)")
                    accepted += 1
                } catch is ParseError {
                    rejected += 1
                } catch {
                    XCTFail("\(name): \(error)")
                }
            }
        }
        XCTAssertGreaterThan(accepted, 1000)
        XCTAssertGreaterThan(rejected, 1000)
    }

    /// Whatever the writer prints reads back as the same document.
    func testWriterOutputReadsBackAsTheSameDocument() throws {
        for (name, bytes) in try documents() {
            let document = try TOMLDocument(parsing: bytes, file: name)
            let text = TOMLWriter.body(of: document.root, at: [], newline: "\n")
            let again = try TOMLDocument(parsing: text, file: name + " (rewritten)")
            XCTAssertEqual(again.root, document.root, name)
        }
    }

    /// A new key can go into every table of every valid case, and nothing else changes.
    func testEditorAddsAKeyToEveryTable() throws {
        var edits = 0
        for (name, bytes) in try documents() {
            let original = try TOMLEditor(bytes: bytes, file: name)
            for path in tablePaths(original.document.root) {
                var editor = original
                let key = "provision-added"
                let value: TOMLValue = ["x", 1]
                do {
                    let changed = try editor.set(key, to: value, in: TOMLTableAddress(path))
                    XCTAssertTrue(changed, "\(name) \(path)")
                } catch {
                    XCTFail("\(name): setting a key in \(path): \(error)")
                    continue
                }
                edits += 1
                XCTAssertEqual(editor.value(key, in: TOMLTableAddress(path)), value, "\(name) \(path)")
                var expected = original.document.root
                expected.set(path + [key], to: value)
                XCTAssertEqual(editor.document.root, expected, "\(name) \(path): other values changed")
                XCTAssertTrue(try editor.remove(key, from: TOMLTableAddress(path)), "\(name) \(path)")
                XCTAssertEqual(editor.document.root, original.document.root, "\(name) \(path)")
            }
        }
        XCTAssertGreaterThan(edits, 300)
    }

    /// Tables reachable by key paths (not inside arrays), root included.
    private func tablePaths(_ table: TOMLTable, prefix: [String] = []) -> [[String]] {
        var paths = [prefix]
        for (key, value) in table.entries {
            if let sub = value.table { paths += tablePaths(sub, prefix: prefix + [key]) }
        }
        return paths
    }
}

/// Deterministic random numbers, so a failing mutation can be replayed.
private struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func next(below bound: Int) -> Int { bound <= 0 ? 0 : Int(next() % UInt64(bound)) }
}

private extension TOMLTable {
    mutating func set(_ path: [String], to value: TOMLValue) {
        guard let key = path.first else { return }
        if path.count == 1 {
            self[key] = value
        } else {
            var sub = self[key]?.table ?? TOMLTable()
            sub.set(Array(path.dropFirst()), to: value)
            self[key] = .table(sub)
        }
    }
}
