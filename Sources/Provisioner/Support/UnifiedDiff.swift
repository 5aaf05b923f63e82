/// Unified diffs as `diff -u` writes them, for `--diff`: Myers' O((N+M)D)
/// linear-space algorithm, GNU diff's boundary shifting so ambiguous edits land
/// where `diff` puts them, hunks with 3 lines of context, and
/// `\ No newline at end of file` markers.
public enum UnifiedDiff {
    /// The diff of `before` -> `after` with `--- before: LABEL` / `+++ after: LABEL`
    /// headers (Ansible's), or "" when the texts are equal.
    public static func render(before: String, after: String, label: String, context: Int = 3) -> String {
        let old = lines(before), new = lines(after)
        if old == new { return "" }
        let (prefix, oldMiddle, newMiddle) = middle(Array(before.utf8), Array(after.utf8), horizon: context)
        // Lines become small integers so comparisons are cheap.
        var ids: [ArraySlice<UInt8>: Int] = [:]
        func id(_ line: ArraySlice<UInt8>) -> Int {
            if let known = ids[line] { return known }
            ids[line] = ids.count
            return ids.count - 1
        }
        var script = EditScript(a: old[prefix..<prefix + oldMiddle].map(id), b: new[prefix..<prefix + newMiddle].map(id))
        script.compareAll()
        script.shiftBoundaries()
        var ops: [Operation] = (0..<prefix).map { .equal($0, $0) }
        for op in script.operations() {
            switch op {
            case .equal(let i, let j): ops.append(.equal(prefix + i, prefix + j))
            case .delete(let i): ops.append(.delete(prefix + i))
            case .insert(let j): ops.append(.insert(prefix + j))
            }
        }
        let oldEnd = prefix + oldMiddle, newEnd = prefix + newMiddle
        for k in 0..<(old.count - oldEnd) { ops.append(.equal(oldEnd + k, newEnd + k)) }
        let suffix = label.isEmpty ? "" : ": " + label
        var out = "--- before\(suffix)\n+++ after\(suffix)\n"
        for hunk in hunks(ops, context: context) {
            out += hunk.header
            for op in hunk.operations {
                switch op {
                case .equal(let i, _): append(" ", old[i], to: &out)
                case .delete(let i): append("-", old[i], to: &out)
                case .insert(let j): append("+", new[j], to: &out)
                }
            }
        }
        return out
    }

    /// Lines with their terminators: "a\nb" is ["a\n", "b"], so a missing final
    /// newline makes the last lines differ, as in `diff`.
    static func lines(_ text: String) -> [ArraySlice<UInt8>] {
        let bytes = Array(text.utf8)
        var result: [ArraySlice<UInt8>] = []
        var start = 0
        for (i, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            result.append(bytes[start...i])
            start = i + 1
        }
        if start < bytes.count { result.append(bytes[start...]) }
        return result
    }

    /// The lines `diff` actually compares: it sets aside the byte-identical start and
    /// end of the files, less `horizon` lines on each side that stay in play so runs
    /// of changes can still slide. Returns the lines set aside at the start and the
    /// number of lines left in the middle of each file.
    static func middle(_ a: [UInt8], _ b: [UInt8], horizon: Int) -> (prefix: Int, old: Int, new: Int) {
        let newline = UInt8(ascii: "\n")
        // diff adds the missing final newline and remembers that it did.
        let missingA = a.last.map { $0 != newline } ?? false, missingB = b.last.map { $0 != newline } ?? false
        let a = missingA ? a + [newline] : a, b = missingB ? b + [newline] : b
        var p = 0
        while p < a.count && p < b.count && a[p] == b[p] { p += 1 }
        // An added newline is not part of a common prefix unless both files had one added.
        if (a.count - (missingA ? 1 : 0) < p) != (b.count - (missingB ? 1 : 0) < p) { p -= 1 }
        var keep = horizon
        while p > 0 && (a[p - 1] != newline || keep > 0) {
            if a[p - 1] == newline { keep -= 1 }
            p -= 1
        }
        let prefixEnd = p
        var endA = a.count, endB = b.count
        if missingA == missingB {
            var stop = prefixEnd + max(0, a.count - b.count)
            var p0 = a.count, p1 = b.count
            while p0 != stop {
                p0 -= 1
                p1 -= 1
                if a[p0] != b[p1] {
                    p0 += 1
                    p1 += 1
                    stop = p0
                    break
                }
            }
            let atLineStart = (p0 == 0 || a[p0 - 1] == newline) && (p1 == 0 || b[p1 - 1] == newline)
            var lines = horizon + (atLineStart ? 0 : 1)
            while lines > 0 && p0 != a.count {
                lines -= 1
                while a[p0] != newline { p0 += 1 }
                p0 += 1
            }
            endA = p0
            endB = p1 + (p0 - stop)
        }
        func count(_ bytes: ArraySlice<UInt8>) -> Int { bytes.reduce(0) { $0 + ($1 == newline ? 1 : 0) } }
        return (count(a[..<prefixEnd]), count(a[prefixEnd..<endA]), count(b[prefixEnd..<endB]))
    }

    static func append(_ marker: String, _ line: ArraySlice<UInt8>, to out: inout String) {
        out += marker
        if line.last == UInt8(ascii: "\n") {
            out += String(decoding: line, as: UTF8.self)
        } else {
            out += String(decoding: line, as: UTF8.self) + "\n\\ No newline at end of file\n"
        }
    }

    enum Operation: Equatable {
        case equal(Int, Int)
        case delete(Int)
        case insert(Int)
    }

    struct Hunk {
        var operations: [Operation]
        var header: String
    }

    /// Groups operations into hunks: changes closer than 2 * context equal lines share one.
    static func hunks(_ ops: [Operation], context: Int) -> [Hunk] {
        let changed = ops.indices.filter { if case .equal = ops[$0] { return false } else { return true } }
        guard let first = changed.first else { return [] }
        var groups: [(Int, Int)] = []
        var start = first, end = first
        for index in changed.dropFirst() {
            if index - end - 1 > 2 * context {
                groups.append((start, end))
                start = index
            }
            end = index
        }
        groups.append((start, end))
        return groups.map { start, end in
            let slice = Array(ops[max(0, start - context)...min(ops.count - 1, end + context)])
            return Hunk(operations: slice, header: header(for: slice, in: ops, from: max(0, start - context)))
        }
    }

    /// `@@ -a,b +c,d @@`: a range of one line is written without its count, an empty
    /// range by the line before it.
    static func header(for slice: [Operation], in ops: [Operation], from offset: Int) -> String {
        // Where the hunk starts in each file: count the lines of each side before it.
        var oldStart = 0, newStart = 0
        for op in ops[..<offset] {
            switch op {
            case .equal: oldStart += 1; newStart += 1
            case .delete: oldStart += 1
            case .insert: newStart += 1
            }
        }
        var oldCount = 0, newCount = 0
        for op in slice {
            switch op {
            case .equal: oldCount += 1; newCount += 1
            case .delete: oldCount += 1
            case .insert: newCount += 1
            }
        }
        func range(_ start: Int, _ count: Int) -> String {
            switch count {
            case 0: return "\(start),0"
            case 1: return "\(start + 1)"
            default: return "\(start + 1),\(count)"
            }
        }
        return "@@ -\(range(oldStart, oldCount)) +\(range(newStart, newCount)) @@\n"
    }
}

/// Which lines of `a` are deleted and which of `b` inserted.
struct EditScript {
    let a: [Int]
    let b: [Int]
    /// One flag per line plus a clear sentinel at each end (index 0 and count + 1),
    /// so boundary shifting can look one past either end.
    var deleted: [Bool]
    var inserted: [Bool]

    init(a: [Int], b: [Int]) {
        self.a = a
        self.b = b
        deleted = [Bool](repeating: false, count: a.count + 2)
        inserted = [Bool](repeating: false, count: b.count + 2)
    }

    /// Myers' divide and conquer: strip the common ends, find the middle snake of an
    /// optimal path, and recurse on each side of it. `a` and `b` here are the lines
    /// left after discarding (see `compareAll`), mapped back through `aIndex`/`bIndex`.
    mutating func compare(_ aLow: Int, _ aHigh: Int, _ bLow: Int, _ bHigh: Int,
                          _ x: [Int], _ y: [Int], _ xIndex: [Int], _ yIndex: [Int]) {
        var aLow = aLow, aHigh = aHigh, bLow = bLow, bHigh = bHigh
        while aLow < aHigh && bLow < bHigh && x[aLow] == y[bLow] { aLow += 1; bLow += 1 }
        while aLow < aHigh && bLow < bHigh && x[aHigh - 1] == y[bHigh - 1] { aHigh -= 1; bHigh -= 1 }
        if aLow == aHigh {
            for j in bLow..<bHigh { inserted[yIndex[j] + 1] = true }
        } else if bLow == bHigh {
            for i in aLow..<aHigh { deleted[xIndex[i] + 1] = true }
        } else {
            let (xMid, yMid) = EditScript.middleSnake(aLow, aHigh, bLow, bHigh, x, y)
            compare(aLow, xMid, bLow, yMid, x, y, xIndex, yIndex)
            compare(xMid, aHigh, yMid, bHigh, x, y, xIndex, yIndex)
        }
    }

    /// A point on an optimal edit path, found by searching from both corners at once,
    /// one edit step per round, along diagonals k = x - y (O(N+M) memory). The order
    /// in which diagonals are tried is GNU diff's, so ties resolve as `diff` resolves them.
    static func middleSnake(_ xLow: Int, _ xHigh: Int, _ yLow: Int, _ yHigh: Int,
                            _ x: [Int], _ y: [Int]) -> (Int, Int) {
        let minDiagonal = xLow - yHigh, maxDiagonal = xHigh - yLow
        let forwardMid = xLow - yLow, backwardMid = xHigh - yHigh
        // Arrays indexed by diagonal, with one spare slot past each valid end.
        let shift = -minDiagonal + 1
        var forward = [Int](repeating: -1, count: maxDiagonal - minDiagonal + 3)
        var backward = [Int](repeating: Int.max, count: maxDiagonal - minDiagonal + 3)
        var forwardMin = forwardMid, forwardMax = forwardMid
        var backwardMin = backwardMid, backwardMax = backwardMid
        let odd = (forwardMid - backwardMid) & 1 != 0
        forward[forwardMid + shift] = xLow
        backward[backwardMid + shift] = xHigh
        while true {
            if forwardMin > minDiagonal { forwardMin -= 1; forward[forwardMin - 1 + shift] = -1 } else { forwardMin += 1 }
            if forwardMax < maxDiagonal { forwardMax += 1; forward[forwardMax + 1 + shift] = -1 } else { forwardMax -= 1 }
            var d = forwardMax
            while d >= forwardMin {
                let low = forward[d - 1 + shift], high = forward[d + 1 + shift]
                var i = low < high ? high : low + 1
                var j = i - d
                while i < xHigh && j < yHigh && x[i] == y[j] { i += 1; j += 1 }
                forward[d + shift] = i
                if odd && backwardMin <= d && d <= backwardMax && backward[d + shift] <= i { return (i, j) }
                d -= 2
            }
            if backwardMin > minDiagonal { backwardMin -= 1; backward[backwardMin - 1 + shift] = Int.max } else { backwardMin += 1 }
            if backwardMax < maxDiagonal { backwardMax += 1; backward[backwardMax + 1 + shift] = Int.max } else { backwardMax -= 1 }
            d = backwardMax
            while d >= backwardMin {
                let low = backward[d - 1 + shift], high = backward[d + 1 + shift]
                var i = low < high ? low : high - 1
                var j = i - d
                while xLow < i && yLow < j && x[i - 1] == y[j - 1] { i -= 1; j -= 1 }
                backward[d + shift] = i
                if !odd && forwardMin <= d && d <= forwardMax && i <= forward[d + shift] { return (i, j) }
                d -= 2
            }
        }
    }

    /// Lines that match nothing in the other file are certainly changed: they are
    /// marked at once and left out of the search, as GNU diff does (this also decides
    /// how it breaks ties). Lines matching very many others are left out only inside
    /// runs of such lines.
    mutating func compareAll() {
        var countsA: [Int: Int] = [:], countsB: [Int: Int] = [:]
        for line in a { countsA[line, default: 0] += 1 }
        for line in b { countsB[line, default: 0] += 1 }
        let discardA = EditScript.discards(a, matches: countsB)
        let discardB = EditScript.discards(b, matches: countsA)
        var x: [Int] = [], xIndex: [Int] = [], y: [Int] = [], yIndex: [Int] = []
        for (i, line) in a.enumerated() {
            if discardA[i] { deleted[i + 1] = true } else { x.append(line); xIndex.append(i) }
        }
        for (j, line) in b.enumerated() {
            if discardB[j] { inserted[j + 1] = true } else { y.append(line); yIndex.append(j) }
        }
        compare(0, x.count, 0, y.count, x, y, xIndex, yIndex)
    }

    /// GNU diff's `discard_confusing_lines` for one file.
    static func discards(_ lines: [Int], matches: [Int: Int]) -> [Bool] {
        let none: UInt8 = 0, certain: UInt8 = 1, provisional: UInt8 = 2
        var many = 5
        var tem = lines.count / 64
        while true { tem >>= 2; if tem <= 0 { break }; many *= 2 }
        var marks = lines.map { line -> UInt8 in
            let count = matches[line] ?? 0
            return count == 0 ? certain : (count > many ? provisional : none)
        }
        var i = 0
        while i < marks.count {
            defer { i += 1 }
            if marks[i] == provisional { marks[i] = none; continue }
            guard marks[i] == certain else { continue }
            var j = i, provisionals = 0
            while j < marks.count && marks[j] != none {
                if marks[j] == provisional { provisionals += 1 }
                j += 1
            }
            while j > i && marks[j - 1] == provisional { j -= 1; marks[j] = none; provisionals -= 1 }
            let length = j - i
            if provisionals * 4 > length {
                for k in i..<j where marks[k] == provisional { marks[k] = none }
                continue
            }
            var minimum = 1
            var quarter = length >> 2
            while true { quarter >>= 2; if quarter <= 0 { break }; minimum <<= 1 }
            minimum += 1
            var k = 0, consecutive = 0
            while k < length {
                if marks[i + k] != provisional {
                    consecutive = 0
                } else {
                    consecutive += 1
                    if consecutive == minimum {
                        k -= consecutive
                    } else if consecutive > minimum {
                        marks[i + k] = none
                    }
                }
                k += 1
            }
            k = 0
            consecutive = 0
            while k < length {
                if k >= 8 && marks[i + k] == certain { break }
                if marks[i + k] == provisional { consecutive = 0; marks[i + k] = none }
                else if marks[i + k] == none { consecutive = 0 }
                else { consecutive += 1 }
                if consecutive == 3 { break }
                k += 1
            }
            i += length - 1
            k = 0
            consecutive = 0
            while k < length {
                if k >= 8 && marks[i - k] == certain { break }
                if marks[i - k] == provisional { consecutive = 0; marks[i - k] = none }
                else if marks[i - k] == none { consecutive = 0 }
                else { consecutive += 1 }
                if consecutive == 3 { break }
                k += 1
            }
        }
        return marks.map { $0 != none }
    }

    /// GNU diff's `shift_boundaries`: slides each run of changes over identical
    /// neighbouring lines, to merge it with other runs or to line it up with a run
    /// in the other file, and otherwise as far down as it goes.
    mutating func shiftBoundaries() {
        shift(&deleted, other: inserted, lines: a)
        shift(&inserted, other: deleted, lines: b)
    }

    /// Indices are 1-based into the flag arrays (0 and count + 1 are sentinels).
    private func shift(_ changed: inout [Bool], other: [Bool], lines: [Int]) {
        let end = lines.count + 1
        var i = 1, j = 1
        while true {
            while i < end && !changed[i] {
                while other[j] { j += 1 }
                j += 1
                i += 1
            }
            if i == end { break }
            var start = i
            i += 1
            while changed[i] { i += 1 }
            while other[j] { j += 1 }
            var corresponding = end
            var runLength = 0
            repeat {
                runLength = i - start
                // Slide back while the line before the run equals its last line.
                while start > 1 && lines[start - 2] == lines[i - 2] {
                    start -= 1
                    changed[start] = true
                    i -= 1
                    changed[i] = false
                    while changed[start - 1] { start -= 1 }
                    j -= 1
                    while other[j] { j -= 1 }
                }
                corresponding = other[j - 1] ? i : end
                // Slide forward while the line after the run equals its first line.
                while i != end && lines[start - 1] == lines[i - 1] {
                    changed[start] = false
                    start += 1
                    changed[i] = true
                    i += 1
                    while changed[i] { i += 1 }
                    j += 1
                    while other[j] {
                        j += 1
                        corresponding = i
                    }
                }
            } while runLength != i - start
            // Prefer the position where the run lines up with a change in the other file.
            while corresponding < i {
                start -= 1
                changed[start] = true
                i -= 1
                changed[i] = false
                j -= 1
                while other[j] { j -= 1 }
            }
        }
    }

    /// The edit as a sequence: at each change, all deletions before the insertions.
    func operations() -> [UnifiedDiff.Operation] {
        var ops: [UnifiedDiff.Operation] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            while i < a.count && deleted[i + 1] { ops.append(.delete(i)); i += 1 }
            while j < b.count && inserted[j + 1] { ops.append(.insert(j)); j += 1 }
            if i < a.count && j < b.count {
                ops.append(.equal(i, j))
                i += 1
                j += 1
            } else if i < a.count || j < b.count {
                // Only reachable if the flags disagree with the lines; keep output whole.
                if i < a.count { ops.append(.delete(i)); i += 1 }
                if j < b.count { ops.append(.insert(j)); j += 1 }
            }
        }
        return ops
    }
}
