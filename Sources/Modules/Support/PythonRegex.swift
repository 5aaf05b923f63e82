import Foundation
import Provisioner

/// A regular expression written for Python's `re` (as playbooks are), run with
/// NSRegularExpression: Python-only spellings are translated first (`PythonRegexSyntax`).
struct PythonRegex: @unchecked Sendable {
    // NSRegularExpression is immutable and documented thread-safe.
    let expression: NSRegularExpression
    let pattern: String

    init(_ pattern: String, argument: String) throws {
        self.pattern = pattern
        do {
            // ICU refuses the empty pattern that Python accepts (it matches everywhere).
            // Only "\n" ends a line for `$` and `.`, as in Python.
            expression = try NSRegularExpression(pattern: pattern.isEmpty ? "(?:)" : PythonRegexSyntax.translate(pattern),
                                                 options: [.useUnixLineSeparators])
        } catch {
            throw ModuleError("'\(pattern)' is not a valid regular expression", argument: argument)
        }
    }

    /// Python's `re.search`: the first match anywhere in `text`.
    func search(_ text: String) -> Match? {
        let ns = text as NSString
        return expression.firstMatch(in: text, range: NSRange(location: 0, length: ns.length)).map { Match(result: $0, text: ns) }
    }

    struct Match {
        let result: NSTextCheckingResult
        let text: NSString

        func group(_ index: Int) -> String? {
            guard index <= result.numberOfRanges - 1 else { return nil }
            let range = result.range(at: index)
            return range.location == NSNotFound ? "" : text.substring(with: range)
        }

        func group(named name: String) -> String? {
            let range = result.range(withName: name)
            return range.location == NSNotFound ? nil : text.substring(with: range)
        }

        var groupCount: Int { result.numberOfRanges - 1 }

        /// Python's `Match.expand`: `\1`, `\g<1>`, `\g<name>`, and the escapes `\n`, `\t` & co.
        func expand(_ template: String, argument: String) throws -> String {
            let chars = Array(template)
            var out = ""
            var i = 0
            func reference(_ index: Int) throws -> String {
                guard index <= groupCount, let value = group(index) else {
                    throw ModuleError("invalid group reference \(index) in '\(template)'", argument: argument)
                }
                return value
            }
            while i < chars.count {
                let c = chars[i]
                guard c == "\\", i + 1 < chars.count else {
                    out.append(c)
                    i += 1
                    continue
                }
                let next = chars[i + 1]
                i += 2
                switch next {
                case "g":
                    guard i < chars.count, chars[i] == "<", let close = chars[i...].firstIndex(of: ">") else {
                        throw ModuleError("missing group name after \\g in '\(template)'", argument: argument)
                    }
                    let name = String(chars[(i + 1)..<close])
                    if let index = Int(name) {
                        out += try reference(index)
                    } else if nameExists(name) {
                        out += group(named: name) ?? ""
                    } else {
                        throw ModuleError("unknown group name '\(name)' in '\(template)'", argument: argument)
                    }
                    i = close + 1
                case "0":
                    // "\0" starts an octal escape of up to three digits.
                    var digits = "0"
                    while digits.count < 3, i < chars.count, ("0"..."7").contains(chars[i]) { digits.append(chars[i]); i += 1 }
                    out.append(Character(Unicode.Scalar(UInt8(digits, radix: 8) ?? 0)))
                case "1"..."9":
                    var digits = String(next)
                    if i < chars.count, chars[i].isASCIIDigit {
                        // Three octal digits are a character; otherwise one or two digits are a group.
                        if i + 1 < chars.count, ("0"..."7").contains(next), ("0"..."7").contains(chars[i]), ("0"..."7").contains(chars[i + 1]),
                           let value = UInt8(String([next, chars[i], chars[i + 1]]), radix: 8) {
                            out.append(Character(Unicode.Scalar(value)))
                            i += 2
                            continue
                        }
                        digits.append(chars[i])
                        i += 1
                    }
                    out += try reference(Int(digits) ?? 0)
                case "n": out += "\n"
                case "t": out += "\t"
                case "r": out += "\r"
                case "a": out += "\u{07}"
                case "b": out += "\u{08}"
                case "f": out += "\u{0C}"
                case "v": out += "\u{0B}"
                case "\\": out += "\\"
                case let letter where letter.isASCII && letter.isLetter:
                    throw ModuleError("bad escape \\\(letter) in '\(template)'", argument: argument)
                default:
                    out += "\\\(next)"
                }
            }
            return out
        }

        /// Whether the pattern declares a group of that name (asked first: a group that
        /// did not take part in the match expands to "").
        func nameExists(_ name: String) -> Bool {
            result.regularExpression?.pattern.contains("(?<\(name)>") ?? false
        }
    }
}
