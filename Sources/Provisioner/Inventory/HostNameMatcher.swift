import Foundation

/// One name pattern: a `~regex` (anchored at the start) or an fnmatch glob (whole name).
struct NameMatcher {
    private enum Token {
        case literal(Unicode.Scalar)
        case any
        case star
        case set(negated: Bool, ranges: [ClosedRange<UInt32>])
    }

    private let regex: NSRegularExpression?
    private let tokens: [Token]

    init(_ pattern: String) throws {
        if pattern.hasPrefix("~") {
            do {
                regex = try NSRegularExpression(pattern: String(pattern.dropFirst()))
            } catch {
                throw HostPatternError(message: "invalid regular expression in host pattern '\(pattern)'")
            }
            tokens = []
        } else {
            regex = nil
            tokens = NameMatcher.compile(Array(pattern.unicodeScalars))
        }
    }

    func matches(_ name: String) -> Bool {
        if let regex {
            return regex.firstMatch(in: name, options: .anchored, range: NSRange(location: 0, length: name.utf16.count)) != nil
        }
        return NameMatcher.match(tokens[...], Array(name.unicodeScalars)[...])
    }

    /// Python's `fnmatch.translate`: `*`, `?`, `[seq]`, `[!seq]`; an unclosed `[` is literal.
    private static func compile(_ p: [Unicode.Scalar]) -> [Token] {
        var tokens: [Token] = []
        var i = 0
        while i < p.count {
            let c = p[i]
            i += 1
            switch c {
            case "*":
                if case .star? = tokens.last { continue }
                tokens.append(.star)
            case "?":
                tokens.append(.any)
            case "[":
                var j = i
                if j < p.count, p[j] == "!" { j += 1 }
                if j < p.count, p[j] == "]" { j += 1 }
                while j < p.count, p[j] != "]" { j += 1 }
                guard j < p.count else { tokens.append(.literal("[")); continue }
                var body = Array(p[i..<j])
                i = j + 1
                let negated = body.first == "!"
                if negated { body.removeFirst() }
                var ranges: [ClosedRange<UInt32>] = []
                var k = 0
                while k < body.count {
                    if k + 2 < body.count, body[k + 1] == "-" {
                        if body[k].value <= body[k + 2].value { ranges.append(body[k].value...body[k + 2].value) }
                        k += 3
                    } else {
                        ranges.append(body[k].value...body[k].value)
                        k += 1
                    }
                }
                tokens.append(.set(negated: negated, ranges: ranges))
            default:
                tokens.append(.literal(c))
            }
        }
        return tokens
    }

    /// Glob matching with single-star backtracking (linear in practice).
    private static func match(_ tokens: ArraySlice<Token>, _ name: ArraySlice<Unicode.Scalar>) -> Bool {
        var t = tokens.startIndex, n = name.startIndex
        var starToken: Int?, starName = 0
        while n < name.endIndex {
            if t < tokens.endIndex {
                switch tokens[t] {
                case .star:
                    starToken = t
                    starName = n
                    t += 1
                    continue
                case .any:
                    t += 1; n += 1; continue
                case .literal(let c) where c == name[n]:
                    t += 1; n += 1; continue
                case .set(let negated, let ranges) where ranges.contains(where: { $0.contains(name[n].value) }) != negated:
                    t += 1; n += 1; continue
                default:
                    break
                }
            }
            guard let star = starToken else { return false }
            t = star + 1
            starName += 1
            n = starName
        }
        while t < tokens.endIndex, case .star = tokens[t] { t += 1 }
        return t == tokens.endIndex
    }
}
