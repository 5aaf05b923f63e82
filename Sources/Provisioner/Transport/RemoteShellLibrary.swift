/// The shell functions a session defines once, when it starts. Each request then
/// calls them with quoted arguments, and each call prints one framed reply:
///
///     @OK                          the action was done
///     @E <base64 message>          it failed (the session goes on)
///     @M                           a path does not exist
///     @C <status>                  a command ran; then a line of base64 stdout, one of base64 stderr
///     @F <stat line>               a path's lstat; then owner, group, base64 link target,
///                                  and base64 content ("-" when not asked for or not a file)
///     @B <base64 bytes>            a blob (file contents, path lists)
///     @P <bytes>                   a blob of plain bytes without a newline (NUL-separated paths)
///
/// Before `@READY` the host lock may answer `@LOCK held|joined|none`, `@WAIT <base64 holder>`
/// (another apply holds it) or `@BUSY <base64 holder>` (it still did at the timeout; the shell exits).
///
/// Every request, this prelude included, is one `{ ... }` group: the shell runs nothing of
/// it before the closing brace has arrived, so a connection cut mid-request runs nothing.
/// Everything the functions run has its stdin redirected (from /dev/null, or from a
/// pipe decoding a here-document), so no command can eat the request stream.
/// Needs only a POSIX sh and coreutils on the host (busybox will do, flock for the lock).
enum RemoteShellLibrary {
    /// The host lock a session takes before it answers (see `HostLock`).
    struct Lock {
        var timeout: Int
        var token: String
        var holder: String
    }

    /// Defines the functions, makes the session's scratch folder (removed when the
    /// shell exits), takes the host lock and prints `@READY nonce` once everything is in place.
    static func prelude(nonce: String, rootless: Bool, lock: Lock? = nil) throws -> String {
        var text = #"""
        {
        pv_wt=
        pv_end() { [ -z "$pv_wt" ] || rm -f -- "$pv_wt"; rm -rf -- "$pv_D"; }
        pv_D=$(mktemp -d "${TMPDIR:-/tmp}/.provision.XXXXXXXX") || exit 111
        # A temp file being written goes with the scratch folder, whatever ends the shell.
        trap 'pv_end' EXIT
        # Caught rather than ignored, so commands still get default signal handling; exiting
        # through the traps cleans up (a dropped connection shows up as SIGPIPE).
        trap 'exit 129' HUP
        trap 'exit 141' PIPE
        trap 'exit 143' TERM
        unset CDPATH
        case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin; export PATH ;; esac
        pv_id=$(LC_ALL=C id) pv_umask=$(umask) pv_nl='
        '
        pv_uid=${pv_id#uid=} pv_gid=${pv_id#* gid=}
        pv_uid=${pv_uid%%[!0-9]*} pv_gid=${pv_gid%%[!0-9]*}
        pv_fm=$(printf '%o' $(( 0666 & ~0$pv_umask ))) pv_dm=$(printf '%o' $(( 0755 & ~0$pv_umask )))
        if command -v sha256sum >/dev/null 2>&1; then pv_sha=sha256sum
        elif command -v shasum >/dev/null 2>&1; then pv_sha='shasum -a 256'
        else pv_sha=; fi

        """#
        if rootless {
            // sudo -u resets the environment: give the user what podman and systemctl --user need.
            text += #"""
            XDG_RUNTIME_DIR=/run/user/$pv_uid DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$pv_uid/bus
            export XDG_RUNTIME_DIR DBUS_SESSION_BUS_ADDRESS
            cd "$HOME" 2>/dev/null || cd /

            """#
        }
        text += "pv_home=$PWD\n" + functions
        if let lock {
            text += "pv_lock \(lock.timeout) " + (try RemoteShell.quote([lock.token, lock.holder])) + "\n"
        }
        return text + "printf '@READY %s\\n' '\(nonce)'\n}\n"
    }

    static let functions = #"""
    pv_fail() { printf '@E '; { printf '%s: ' "$1"; cat -- "$pv_D/e"; } | base64 -w0; echo; }
    pv_say() { printf '@E '; printf '%s' "$1" | base64 -w0; echo; }
    pv_tell() { printf '%s ' "$1"; printf '%s' "$2" | base64 -w0; echo; }
    pv_exec() {
      (
        while [ "$pv_n" -gt 0 ]; do export "$1" || exit 125; shift; pv_n=$((pv_n - 1)); done
        if [ -n "$pv_dir" ]; then cd -- "$pv_dir" || exit 126; fi
        # Not the lock's descriptor: a daemon started here must not hold the host lock.
        exec "$@" 9>&-
      ) 2>"$pv_D/e$pv_q" >"$pv_D/o$pv_q"
    }
    pv_run() {
      pv_si=$1 pv_dir=$2 pv_n=$3 pv_q=; shift 3
      # stdin goes through a pipe, never a file: it may be a secret.
      if [ "$pv_si" = 1 ]; then base64 -d 2>/dev/null | pv_exec "$@"; else pv_exec "$@" </dev/null; fi
      printf '@C %s\n' "$?"
      if [ -s "$pv_D/o" ]; then base64 -w0 <"$pv_D/o"; fi; echo
      if [ -s "$pv_D/e" ]; then base64 -w0 <"$pv_D/e"; fi; echo
    }
    # Read-only probes: each starts now, silently, in batches of 32 (a podman or systemctl start-up costs
    # tens of milliseconds, and a batch waits for its slowest: small batches added those up); pv_flush
    # then answers for all at once (statuses in order, output sizes, and every output in one base64
    # line: three processes, not two per probe).
    pv_runq() {
      pv_q=$1 pv_dir= pv_n=0; shift
      pv_exec "$@" </dev/null &
      pv_started
    }
    # A probe that is a sh script ($2, with its arguments after it), run in a subshell of this shell: no new sh to start.
    pv_runs() {
      pv_q=$1 pv_e=$2; shift 2
      ( exec 9>&-; eval "$pv_e" ) </dev/null >"$pv_D/o$pv_q" 2>"$pv_D/e$pv_q" &
      pv_started
    }
    pv_started() {
      pv_pids="$pv_pids $!" pv_nj=$((${pv_nj:-0} + 1))
      if [ "$pv_nj" -ge 32 ]; then pv_reap; fi
    }
    pv_reap() {
      for pv_p in $pv_pids; do wait "$pv_p"; pv_st="$pv_st $?"; done
      pv_pids= pv_nj=0
    }
    # Lists of many paths go through a NUL-separated file and xargs: growing "$@" one by one costs O(N²) in sh.
    pv_flush() {
      pv_reap
      pv_i=1 pv_c=$1
      while [ "$pv_i" -le "$pv_c" ]; do printf '%s\0%s\0' "$pv_D/o$pv_i" "$pv_D/e$pv_i"; pv_i=$((pv_i + 1)); done >"$pv_D/l"
      if pv_sz=$(xargs -0 stat -c %s -- <"$pv_D/l" 2>"$pv_D/e"); then
        printf '@Q%s\n' "$pv_st"; echo $pv_sz; xargs -0 cat -- <"$pv_D/l" | base64 -w0; echo
      else
        pv_fail "probe outputs"
      fi
      pv_st=
    }
    pv_stat() {
      if ! pv_l=$(LC_ALL=C stat -c '%f %u %g %s %Y %h %y
    %U
    %G' -- "$1" 2>"$pv_D/e"); then
        pv_e=; read -r pv_e <"$pv_D/e" || :
        case $pv_e in
          *'No such file or directory'*|*'Not a directory'*) echo '@M' ;;
          *) pv_fail "stat $1" ;;
        esac
        return
      fi
      pv_k=
      case $pv_l in a???' '*) pv_k=$(readlink -- "$1" | base64 -w0) ;; esac
      printf '@F %s\n%s\n' "$pv_l" "$pv_k"
      case $2$pv_l in
        18???' '*) base64 -w0 2>"$pv_D/e" <"$1" || { printf '!'; { printf 'read %s: ' "$1"; cat -- "$pv_D/e"; } | base64 -w0; }; echo ;;
        *) echo - ;;
      esac
    }
    # Many paths with few processes (each costs milliseconds): one stat for all that exist,
    # then one reply per path as pv_stat gives it, without content. $1 is P (lstat) or L
    # (links followed: whatever does not resolve is @M, as `stat -L` failing would say).
    pv_statall() {
      pv_f=$1 pv_x= pv_so=; shift
      [ "$pv_f" = L ] && pv_so=-L
      if ! pv_exist "$@" >"$pv_D/s" 2>"$pv_D/e"; then
        for pv_p do if [ "$pv_f" = L ]; then echo '@M'; else pv_stat "$pv_p" 0; fi; done
        return
      fi
      exec 3<"$pv_D/s"
      for pv_p do
        pv_c=${pv_x%"${pv_x#?}"}; pv_x=${pv_x#?}
        if [ "$pv_c" = 1 ]; then
          IFS= read -r pv_l <&3; IFS= read -r pv_u <&3; IFS= read -r pv_g <&3
          pv_k=; case $pv_l in a???' '*) pv_k=$(readlink -- "$pv_p" | base64 -w0) ;; esac
          printf '@F %s\n%s\n%s\n%s\n-\n' "$pv_l" "$pv_u" "$pv_g" "$pv_k"
        elif [ "$pv_uid" = 0 ] || [ "$pv_f" = L ]; then
          echo '@M'
        else
          # Not found by a user who may lack search permission: let stat say which.
          pv_stat "$pv_p" 0
        fi
      done
      exec 3<&-
    }
    pv_exist() {
      pv_y=0
      for pv_p do
        if [ -e "$pv_p" ] || { [ "$pv_f" = P ] && [ -L "$pv_p" ]; }; then printf '%s\0' "$pv_p"; pv_x=${pv_x}1; pv_y=1; else pv_x=${pv_x}0; fi
      done >"$pv_D/l"
      [ "$pv_y" = 0 ] || LC_ALL=C xargs -0 stat $pv_so -c '%f %u %g %s %Y %h %y
    %U
    %G' -- <"$pv_D/l"
    }
    # The bytes of the regular files among the arguments, concatenated (the reader splits them by size).
    pv_catall() {
      pv_y=0
      for pv_p do if [ -f "$pv_p" ] && [ ! -L "$pv_p" ]; then printf '%s\0' "$pv_p"; pv_y=1; fi; done >"$pv_D/l"
      if [ "$pv_y" = 0 ]; then echo '@B '; return; fi
      if xargs -0 cat -- <"$pv_D/l" >"$pv_D/b" 2>"$pv_D/e"; then printf '@B '; base64 -w0 <"$pv_D/b"; echo; else pv_fail read; fi
      : >"$pv_D/b"
    }
    # Where paths really are, for the controller's cache: for each pair (P or L, path), NUL-terminated,
    # the path with the links in its folders resolved (its own name kept) and, for L, where it leads;
    # one @P line of plain bytes (a path with a newline is left unknown). Builtins only (cd -P sets PWD
    # to the physical folder), but for readlink on a link itself.
    pv_locate() {
      pv_ld= pv_cd=
      printf '@P '
      while [ $# -gt 1 ]; do
        pv_f=$1 pv_p=$2; shift 2
        case $pv_p in */*) pv_d=${pv_p%/*} pv_b=${pv_p##*/} ;; *) pv_d=. pv_b=$pv_p ;; esac
        [ -n "$pv_d" ] || pv_d=/
        if [ "$pv_d" != "$pv_ld" ]; then pv_ld=$pv_d; pv_canon "$pv_d"; fi
        pv_e= pv_r=
        [ -z "$pv_cd" ] || pv_e=${pv_cd%/}/$pv_b
        if [ "$pv_f" = L ] && [ -n "$pv_e" ]; then
          if [ -L "$pv_e" ]; then pv_r=$(readlink -f -- "$pv_e" 2>/dev/null) || pv_r=; else pv_r=$pv_e; fi
        fi
        case $pv_e$pv_r in *"$pv_nl"*) pv_e= pv_r= ;; esac
        printf '%s\0%s\0' "$pv_e" "$pv_r"
      done
      echo
      cd -- "$pv_home" 2>/dev/null || cd /
    }
    # pv_cd: the physical path of folder $1, a missing tail kept as written ("" when unknown).
    pv_canon() {
      pv_t=$1 pv_m= pv_cd=
      while ! cd -P -- "$pv_t" 2>/dev/null; do
        case $pv_t in
          /|.) return ;;
          */*) pv_m=/${pv_t##*/}$pv_m; pv_t=${pv_t%/*}; [ -n "$pv_t" ] || pv_t=/ ;;
          *) pv_m=/$pv_t$pv_m; pv_t=. ;;
        esac
      done
      case $pv_m/ in */./*|*/../*) return ;; esac
      pv_cd=${PWD%/}$pv_m
      [ -n "$pv_cd" ] || pv_cd=/
    }
    # The host lock (one per host and user class): $1 seconds to wait, $2 this run's token, $3 who we are.
    # Held on descriptor 9 until the shell ends, however it ends; a session of the same run joins it.
    pv_lock() {
      pv_lk= pv_ls=none
      if [ "$pv_uid" = 0 ]; then [ -d /run ] && pv_lk=/run/provision.lock
      elif [ -d "/run/user/$pv_uid" ] && [ -w "/run/user/$pv_uid" ]; then pv_lk=/run/user/$pv_uid/provision.lock
      elif [ -n "$HOME" ] && [ -d "$HOME" ] && [ -w "$HOME" ]; then pv_lk=$HOME/.provision.lock
      fi
      if [ -z "$pv_lk" ] || ! command -v flock >/dev/null 2>&1; then pv_lk=; echo '@LOCK none'; return; fi
      umask 077
      { command exec 9>>"$pv_lk"; } 2>/dev/null || { umask "$pv_umask"; pv_lk=; echo '@LOCK none'; return; }
      umask "$pv_umask"
      if ! flock -n 9; then
        pv_w=0 pv_said=
        while :; do
          pv_h=; IFS= read -r pv_h <"$pv_lk" || :
          case $pv_h in "$2 "*) exec 9>&-; pv_ls=joined; echo '@LOCK joined'; return ;; esac
          if [ "$pv_w" -ge "$1" ] && [ "$pv_w" -ge 1 ]; then pv_tell @BUSY "${pv_h#* }"; exit 75; fi
          # A holder of this run may not have written its token yet: wait a second before saying so.
          if [ "$pv_w" -ge 1 ] && [ "$pv_h" != "$pv_said" ]; then pv_said=$pv_h; pv_tell @WAIT "${pv_h#* }"; fi
          flock -w 1 9 && break
          pv_w=$((pv_w + 1))
        done
      fi
      printf '%s %s\n' "$2" "$3" >"$pv_lk"
      pv_ls=held
      echo '@LOCK held'
    }
    # Removes, in the folders given, the temp files an interrupted run left (ours by name: .NAME.provision-XXXXXX,
    # NAME.provision-link-PID), only stale ones: older than this run's lock (so no live apply's), a link's
    # shell gone, this user's unless we are root. Answers with the paths removed.
    pv_sweep() {
      for pv_d do
        [ -n "$pv_lk" ] || break
        for pv_p in "$pv_d"/.*.provision-?????? "$pv_d"/*.provision-link-*; do
          case $pv_p in
            *.provision-link-*) [ -L "$pv_p" ] && [ "$pv_uid" = 0 ] && ! kill -0 "${pv_p##*-}" 2>/dev/null || continue ;;
            *) [ -f "$pv_p" ] && [ ! -L "$pv_p" ] && [ "$pv_p" -ot "$pv_lk" ] && { [ "$pv_uid" = 0 ] || [ -O "$pv_p" ]; } || continue ;;
          esac
          rm -f -- "$pv_p" 2>/dev/null && printf '%s\0' "$pv_p"
        done
      done >"$pv_D/w"
      printf '@B '; base64 -w0 <"$pv_D/w"; echo
    }
    pv_attrs() {
      pv_s=$(stat -c '%f %u %g %U %G' -- "$1" 2>"$pv_D/e") || { pv_fail "stat $1"; return 1; }
      pv_r=${pv_s%% *}; pv_s=${pv_s#* }; pv_u=${pv_s%% *}; pv_s=${pv_s#* }; pv_g=${pv_s%% *}; pv_s=${pv_s#* }
      pv_un=${pv_s%% *}; pv_gn=${pv_s#* }; pv_ch=0
      if { [ -n "$3" ] && [ "$3" != "$pv_u" ] && [ "$3" != "$pv_un" ]; } ||
         { [ -n "$4" ] && [ "$4" != "$pv_g" ] && [ "$4" != "$pv_gn" ]; }; then
        chown -h -- "${3:-$pv_u}:${4:-$pv_g}" "$1" 2>"$pv_D/e" || { pv_fail "chown $1"; return 1; }
        pv_ch=1
      fi
      case $pv_r in a???) return 0 ;; esac
      # chown clears setuid/setgid, so the mode is set after it.
      if [ -n "$2" ] && { [ $pv_ch = 1 ] || [ $((0$2)) -ne $((0x$pv_r & 07777)) ]; }; then
        chmod -- "$2" "$1" 2>"$pv_D/e" || { pv_fail "chmod $1"; return 1; }
      fi
    }
    pv_setattrs() { pv_attrs "$@" && echo '@OK'; }
    # The temp file goes before the reply: a reply into a dead connection ends the shell (SIGPIPE).
    pv_drop() { rm -f -- "$pv_wt"; pv_wt=; }
    # $1 target, $2 temp template, $3 its folder, $4 mode, $5 owner, $6 group, $7 backup, $8 size, $9 SHA-256;
    # the content on stdin (base64). Commits only what arrived whole: length and digest checked here.
    pv_write() {
      # Named where the exit trap finds it in the same command that makes it.
      pv_wt=$(mktemp -- "$2" 2>"$pv_D/e") || { pv_wt=; pv_fail "create a temporary file for $1"; return; }
      pv_t=$pv_wt
      base64 -d 2>"$pv_D/e" >"$pv_t" || { pv_drop; pv_fail "write $pv_t"; return; }
      if [ -z "$pv_sha" ]; then pv_drop; pv_say "cannot check the write of $1: the host has no sha256sum (coreutils)"; return; fi
      pv_h=$($pv_sha <"$pv_t" 2>/dev/null); pv_h=${pv_h%% *}
      pv_s=$(LC_ALL=C stat -L -c '%s %a %u %g' -- "$pv_t" "$1" 2>/dev/null); pv_n=${pv_s%% *}
      if [ "$pv_n" != "$8" ] || [ "$pv_h" != "$9" ]; then
        pv_drop; pv_say "$1 was left as it was: what arrived (${pv_n:-?} bytes, SHA-256 ${pv_h:-?}) is not what was sent ($8 bytes, $9)"
        return
      fi
      pv_x=0
      case $pv_s in *"$pv_nl"*) pv_x=1; pv_s=${pv_s#*"$pv_nl"}; pv_s=${pv_s#* } ;; *) pv_s="$pv_fm $pv_uid $pv_gid" ;; esac
      pv_m=${4:-${pv_s%% *}}; pv_s=${pv_s#* }; pv_o=${5:-${pv_s%% *}}; pv_g=${6:-${pv_s#* }}
      if [ "$pv_o:$pv_g" != "$pv_uid:$pv_gid" ]; then
        chown -- "$pv_o:$pv_g" "$pv_t" 2>"$pv_D/e" || { pv_drop; pv_fail "chown $pv_t"; return; }
      fi
      chmod -- "$pv_m" "$pv_t" 2>"$pv_D/e" || { pv_drop; pv_fail "chmod $pv_t"; return; }
      sync -- "$pv_t" 2>/dev/null || sync
      if [ "$7" = 1 ] && [ $pv_x = 1 ]; then
        pv_b="$1.$$.$(date +%Y-%m-%d@%H:%M:%S)~"
        ln -P -- "$1" "$pv_b" 2>/dev/null || cp -P -p -- "$1" "$pv_b" 2>"$pv_D/e" ||
          { pv_drop; pv_fail "cannot back up $1"; return; }
      fi
      mv -f -T -- "$pv_t" "$1" 2>"$pv_D/e" || { pv_drop; pv_fail "rename into $1"; return; }
      pv_wt=
      sync -- "$3" 2>/dev/null
      echo '@OK'
    }
    pv_rm() { rm -rf -- "$1" 2>"$pv_D/e" || { pv_fail "remove $1"; return; }; echo '@OK'; }
    pv_mkdir() {
      pv_mm=$1 pv_mo=$2 pv_mg=$3 pv_mt=$4 pv_new=0; shift 4
      for pv_d do
        if [ $pv_new = 0 ]; then
          if [ -e "$pv_d" ]; then
            [ -d "$pv_d" ] && continue
            pv_say "cannot create directory $pv_mt: $pv_d exists and is not a directory"; return
          fi
          pv_new=1
        fi
        mkdir -m "${pv_mm:-$pv_dm}" -- "$pv_d" 2>"$pv_D/e" || [ -e "$pv_d" ] || [ -L "$pv_d" ] ||
          { pv_fail "mkdir $pv_d"; return; }
        pv_attrs "$pv_d" "$pv_mm" "$pv_mo" "$pv_mg" || return
      done
      echo '@OK'
    }
    pv_touch() {
      if [ -e "$1" ] || [ -L "$1" ]; then
        touch -c -h -- "$1" 2>"$pv_D/e" || { pv_fail "touch $1"; return; }
        echo '@OK'
      else
        pv_say "touch $1: No such file or directory"
      fi
    }
    pv_link() {
      pv_t="$1.provision-link-$$"
      rm -f -- "$pv_t" 2>/dev/null
      pv_wt=$pv_t
      ln -s -T -- "$2" "$pv_t" 2>"$pv_D/e" || { pv_drop; pv_fail "symlink $pv_t"; return; }
      mv -f -T -- "$pv_t" "$1" 2>"$pv_D/e" || { pv_drop; pv_fail "rename into $1"; return; }
      pv_wt=
      echo '@OK'
    }

    """#
}
