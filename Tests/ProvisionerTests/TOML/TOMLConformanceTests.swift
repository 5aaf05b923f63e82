import Foundation
import XCTest
@testable import Provisioner

/// Runs toml-test's TOML 1.0 selection in process. The suite lives beside the
/// project (`../shared/conformance/toml-suite`) and is never copied into it.
final class TOMLConformanceTests: XCTestCase {
    func testValidCasesRenderTheExpectedTaggedJSON() throws {
        let valid = try TOMLSuite.cases("valid")
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
        let invalid = try TOMLSuite.cases("invalid")
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

/// Finds toml-test's cases beside the project checkout, by this file's path.
enum TOMLSuite {
    static func cases(_ kind: String) throws -> [URL] {
        let conformance = TestSupport.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance")
        guard FileManager.default.fileExists(atPath: conformance.path) else {
            throw XCTSkip("toml-test suite not found: \(conformance.path) does not exist "
                + "(it sits beside the project checkout, at ../shared/conformance)")
        }
        let folder = conformance.appendingPathComponent("toml-suite/\(kind)")
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "toml" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
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
