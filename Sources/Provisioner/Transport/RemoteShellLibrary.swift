/// The shell functions a session defines once, when it starts. Each request then
/// calls them with quoted arguments, and each call prints one framed reply:
///
///     @OK                          the action was done
///     @E <base64 message>          it failed (the session goes on)
///     @M                           a path does not exist
///     @C <status>                  a command ran; then a line of base64 stdout, one of base64 stderr
///     @F <stat line>               a path's lstat; then owner, group, base64 link target,
///                                  and base64 content ("-" when not asked for or not a file)
///
/// Everything the functions run has its stdin redirected (from /dev/null, or from a
/// pipe decoding a here-document), so no command can eat the request stream.
/// Needs only a POSIX sh and coreutils on the host.
enum RemoteShellLibrary {
    /// Defines the functions, makes the session's scratch folder (removed when the
    /// shell exits) and prints `@READY nonce` once everything is in place.
    static func prelude(nonce: String, rootless: Bool) -> String {
        var text = #"""
        pv_D=$(mktemp -d "${TMPDIR:-/tmp}/.provision.XXXXXXXX") || exit 111
        trap 'rm -rf "$pv_D"' EXIT
        # Caught rather than ignored, so commands still get default signal handling; exiting
        # through the traps removes the scratch folder (a dropped connection shows up as SIGPIPE).
        trap 'exit 129' HUP
        trap 'exit 141' PIPE
        trap 'exit 143' TERM
        case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin; export PATH ;; esac
        pv_id=$(LC_ALL=C id) pv_umask=$(umask)
        pv_uid=${pv_id#uid=} pv_gid=${pv_id#* gid=}
        pv_uid=${pv_uid%%[!0-9]*} pv_gid=${pv_gid%%[!0-9]*}
        pv_fm=$(printf '%o' $(( 0666 & ~0$pv_umask ))) pv_dm=$(printf '%o' $(( 0755 & ~0$pv_umask )))

        """#
        if rootless {
            // sudo -u resets the environment: give the user what podman and systemctl --user need.
            text += #"""
            XDG_RUNTIME_DIR=/run/user/$pv_uid DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$pv_uid/bus
            export XDG_RUNTIME_DIR DBUS_SESSION_BUS_ADDRESS
            cd "$HOME" 2>/dev/null || cd /

            """#
        }
        return text + functions + "printf '@READY %s\\n' '\(nonce)'\n"
    }

    static let functions = #"""
    pv_fail() { printf '@E '; { printf '%s: ' "$1"; cat -- "$pv_D/e"; } | base64 -w0; echo; }
    pv_say() { printf '@E '; printf '%s' "$1" | base64 -w0; echo; }
    pv_exec() {
      (
        while [ "$pv_n" -gt 0 ]; do export "$1" || exit 125; shift; pv_n=$((pv_n - 1)); done
        if [ -n "$pv_dir" ]; then cd -- "$pv_dir" || exit 126; fi
        exec "$@"
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
    # Read-only probes in a row: each runs now, silently; pv_flush then answers for all at once
    # (statuses, output sizes, and every output in one base64 line: three processes, not two per probe).
    pv_runq() {
      pv_q=$1 pv_dir= pv_n=0; shift
      pv_exec "$@" </dev/null
      pv_st="$pv_st $?"
    }
    pv_flush() {
      pv_i=1 pv_c=$1; set --
      while [ "$pv_i" -le "$pv_c" ]; do set -- "$@" "$pv_D/o$pv_i" "$pv_D/e$pv_i"; pv_i=$((pv_i + 1)); done
      if pv_sz=$(stat -c %s -- "$@" 2>"$pv_D/e"); then
        printf '@Q%s\n' "$pv_st"; echo $pv_sz; cat -- "$@" | base64 -w0; echo
      else
        pv_fail "probe outputs"
      fi
      pv_st=
    }
    pv_stat() {
      if ! pv_l=$(LC_ALL=C stat -c '%f %u %g %s %Y %y
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
      for pv_p do
        shift
        if [ -e "$pv_p" ] || { [ "$pv_f" = P ] && [ -L "$pv_p" ]; }; then set -- "$@" "$pv_p"; pv_x=${pv_x}1; else pv_x=${pv_x}0; fi
      done
      [ $# -eq 0 ] || LC_ALL=C stat $pv_so -c '%f %u %g %s %Y %y
    %U
    %G' -- "$@"
    }
    # The bytes of the regular files among the arguments, concatenated (the reader splits them by size).
    pv_catall() {
      for pv_p do shift; if [ -f "$pv_p" ] && [ ! -L "$pv_p" ]; then set -- "$@" "$pv_p"; fi; done
      if [ $# -eq 0 ]; then echo '@B '; return; fi
      if cat -- "$@" >"$pv_D/b" 2>"$pv_D/e"; then printf '@B '; base64 -w0 <"$pv_D/b"; echo; else pv_fail read; fi
      : >"$pv_D/b"
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
    pv_write() {
      pv_t=$(mktemp -- "$2" 2>"$pv_D/e") || { pv_fail "create a temporary file for $1"; return; }
      base64 -d 2>"$pv_D/e" >"$pv_t" || { pv_fail "write $pv_t"; rm -f -- "$pv_t"; return; }
      pv_x=1; pv_s=$(stat -L -c '%a %u %g' -- "$1" 2>/dev/null) || { pv_x=0; pv_s="$pv_fm $pv_uid $pv_gid"; }
      pv_m=${4:-${pv_s%% *}}; pv_s=${pv_s#* }; pv_o=${5:-${pv_s%% *}}; pv_g=${6:-${pv_s#* }}
      if [ "$pv_o:$pv_g" != "$pv_uid:$pv_gid" ]; then
        chown -- "$pv_o:$pv_g" "$pv_t" 2>"$pv_D/e" || { pv_fail "chown $pv_t"; rm -f -- "$pv_t"; return; }
      fi
      chmod -- "$pv_m" "$pv_t" 2>"$pv_D/e" || { pv_fail "chmod $pv_t"; rm -f -- "$pv_t"; return; }
      sync -- "$pv_t" 2>/dev/null || sync
      if [ "$7" = 1 ] && [ $pv_x = 1 ]; then
        pv_b="$1.$$.$(date +%Y-%m-%d@%H:%M:%S)~"
        ln -P -- "$1" "$pv_b" 2>/dev/null || cp -P -p -- "$1" "$pv_b" 2>"$pv_D/e" ||
          { pv_fail "cannot back up $1"; rm -f -- "$pv_t"; return; }
      fi
      mv -f -T -- "$pv_t" "$1" 2>"$pv_D/e" || { pv_fail "rename into $1"; rm -f -- "$pv_t"; return; }
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
      ln -s -T -- "$2" "$pv_t" 2>"$pv_D/e" || { pv_fail "symlink $pv_t"; return; }
      mv -f -T -- "$pv_t" "$1" 2>"$pv_D/e" || { pv_fail "rename into $1"; rm -f -- "$pv_t"; return; }
      echo '@OK'
    }

    """#
}
