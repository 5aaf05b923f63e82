import Foundation
import Provisioner

/// A regular expression written for Python's `re` (as playbooks are), run with
/// NSRegularExpression: Python-only spellings are translated first (`PythonRegexSyntax`).
struct PythonRegex: @unchecked Sendable {
    // NSRegularExpression is immutable and documented thread-safe.
    let expression: NSRegularExpression
    let pattern: String

    /// `multiline`: Python's re.MULTILINE (`^` and `$` at every line).
    init(_ pattern: String, argument: String, multiline: Bool = false) throws {
        self.pattern = pattern
        do {
            // ICU refuses the empty pattern that Python accepts (it matches everywhere).
            // Only "\n" ends a line for `$` and `.`, as in Python.
            expression = try NSRegularExpression(pattern: pattern.isEmpty ? "(?:)" : PythonRegexSyntax.translate(pattern),
                                                 options: multiline ? [.useUnixLineSeparators, .anchorsMatchLines] : [.useUnixLineSeparators])
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

        /// Python's `Match.expand` (`PythonRegexSyntax.replacement` reads the template).
        func expand(_ template: String, argument: String) throws -> String {
            let parts: [PythonReplacementPart]
            do {
                parts = try PythonRegexSyntax.replacement(template, groupCount: groupCount, hasGroup: nameExists)
            } catch let error as PythonReplacementError {
                switch error {
                case .invalidGroup(let index):
                    throw ModuleError("invalid group reference \(index) in '\(template)'", argument: argument)
                case .missingGroupName:
                    throw ModuleError("missing group name after \\g in '\(template)'", argument: argument)
                case .unknownGroupName(let name):
                    throw ModuleError("unknown group name '\(name)' in '\(template)'", argument: argument)
                case .badEscape(let letter):
                    throw ModuleError("bad escape \\\(letter) in '\(template)'", argument: argument)
                }
            }
            return parts.map { part in
                switch part {
                case .literal(let text): return text
                case .group(let index): return group(index) ?? ""
                case .named(let name): return group(named: name) ?? ""
                }
            }.joined()
        }

        /// Whether the pattern declares a group of that name (asked first: a group that
        /// did not take part in the match expands to "").
        func nameExists(_ name: String) -> Bool {
            result.regularExpression?.pattern.contains("(?<\(name)>") ?? false
        }
    }
}
