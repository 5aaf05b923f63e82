/// "Did you mean ...?" for misspelt module, argument and keyword names.
public enum Suggestion {
    /// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo.
    public static func nearest(to word: String, in candidates: [String]) -> String? {
        // Two edits in a short name make another word ('git' is not a typo of 'apt').
        let limit = word.count <= 5 ? 1 : max(2, word.count / 3)
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let d = distance(word.lowercased(), candidate.lowercased())
            if d <= limit, d < (best?.distance ?? .max) { best = (candidate, d) }
        }
        return best?.name
    }

    /// `" (did you mean 'x'?)"`, `" (did you mean 'x' or 'y'?)"` for equally close names, or "".
    public static func hint(for word: String, in candidates: [String]) -> String {
        guard let best = nearest(to: word, in: candidates) else { return "" }
        let closest = Suggestion.distance(word.lowercased(), best.lowercased())
        let tied = Set(candidates.filter { Suggestion.distance(word.lowercased(), $0.lowercased()) == closest }).sorted().prefix(3)
        return " (did you mean " + tied.map { "'\($0)'" }.joined(separator: " or ") + "?)"
    }

    /// Levenshtein distance with adjacent transpositions counted as one edit.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
