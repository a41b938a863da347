# bash completion for migrate(1)                                  -*- shell-script -*-
#
# Install as $datadir/bash-completion/completions/migrate, or source it from ~/.bashrc.
# Needs only bash itself (not the bash-completion package's helpers).
# shellcheck disable=SC2207 # COMPREPLY=($(compgen ...)): words without blanks, or IFS=newline
#
# The commands and options below mirror the command table (src/cli/commands.c) and the
# option table (src/cli/options.c); keep them in step with those.

_migrate_commands="up down status verify seed check resolve baseline create testdb reset drift roundtrip lint wait help"

# _migrate_options COMMAND: the options COMMAND accepts, long and short.
_migrate_options() {
	local common="--config -c --root -r --env --help -h"
	local fleet="--target --shard --canary --parallel --max-failures"
	case $1 in
	up) echo "--module -m --to --dry-run --sql --phase --allow-out-of-order --format -f --quiet -q --verbose -v --no-lint $fleet $common" ;;
	down) echo "--module -m --steps -n --to --dry-run --format -f --quiet -q --verbose -v $fleet $common" ;;
	baseline) echo "--module -m --version --mongodb --dry-run --quiet -q $common" ;;
	status) echo "--format -f $fleet $common" ;;
	verify) echo "--format -f $fleet $common" ;;
	seed) echo "--data --module -m --reset --dry-run --prune --format -f --quiet -q $fleet $common" ;;
	check) echo "--quiet -q $common" ;;
	resolve) echo "--module -m --version --applied --rolled-back --mongodb $common" ;;
	create) echo "--module -m --quiet -q $common" ;;
	testdb) echo "--name --older-than --seed --format -f --quiet -q $common" ;;
	reset) echo "--force --quiet -q --verbose -v $common" ;;
	drift) echo "--module -m --format -f --quiet -q $fleet $common" ;;
	roundtrip) echo "--module -m --from --to --pending --require-down --max-failures --parallel --format -f --quiet -q $common" ;;
	lint) echo "--module -m --all --observe --data --pg-version --format -f $common" ;;
	wait) echo "--timeout -t --quiet -q $common" ;;
	help) echo "--format -f --help -h" ;;
	esac
}

# _migrate_takes_value COMMAND OPTION: whether OPTION of COMMAND takes a value.
_migrate_takes_value() {
	case $2 in
	--config | -c | --root | -r | --env | --module | -m | --steps | -n | --format | -f | --name | --older-than | --pg-version | --phase | --timeout | -t) return 0 ;;
	--target | --shard | --canary | --parallel | --max-failures | --from | --to) return 0 ;;
	--version) [ "$1" = resolve ] || [ "$1" = baseline ] ;;
	*) return 1 ;;
	esac
}

# _migrate_modules ROOT: module directory names under ROOT/postgres and ROOT/mongodb.
_migrate_modules() {
	local root=$1 d name seen=" "
	for d in "$root"/postgres/*/ "$root"/mongodb/*/; do
		[ -d "$d" ] || continue
		name=${d%/}
		name=${name##*/}
		[[ $name =~ ^[a-z0-9_]+$ ]] || continue
		[[ $seen == *" $name "* ]] && continue
		seen="$seen$name "
		echo "$name"
	done
}

# _migrate_value COMMAND OPTION CUR: fills COMPREPLY with the values of OPTION.
_migrate_value() {
	local cmd=$1 opt=$2 cur=$3 root=migrations i w
	case $opt in
	--format | -f)
		if [ "$cmd" = lint ]; then
			COMPREPLY=($(compgen -W "text json github sarif" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "text json" -- "$cur"))
		fi
		;;
	--phase)
		COMPREPLY=($(compgen -W "expand contract" -- "$cur"))
		;;
	--module | -m)
		# --root DIR / --root=DIR / -r DIR / -rDIR given earlier on the line wins
		for ((i = 2; i < ${#COMP_WORDS[@]}; i++)); do
			[ "$i" -eq "$COMP_CWORD" ] && continue
			w=${COMP_WORDS[i]}
			case $w in
			--root | -r)
				if [ "${COMP_WORDS[i + 1]:-}" = "=" ]; then
					root=${COMP_WORDS[i + 2]:-$root}
				else
					root=${COMP_WORDS[i + 1]:-$root}
				fi
				;;
			--root=?*) root=${w#--root=} ;;
			-r?*) root=${w#-r} ;;
			esac
		done
		[[ $root == "~"* ]] && root=$HOME${root#\~}
		COMPREPLY=($(compgen -W "$(_migrate_modules "$root")" -- "$cur"))
		;;
	--config | -c)
		compopt -o filenames 2>/dev/null
		local IFS=$'\n'
		COMPREPLY=($(compgen -d -- "$cur")
			$(compgen -f -X '!*.yaml' -- "$cur")
			$(compgen -f -X '!*.yml' -- "$cur"))
		;;
	--root | -r)
		compopt -o filenames 2>/dev/null
		local IFS=$'\n'
		COMPREPLY=($(compgen -d -- "$cur"))
		;;
	*)
		COMPREPLY=() # --steps N, --version V, --to V, --timeout D: nothing to offer
		;;
	esac
}

_migrate() {
	local cur=${COMP_WORDS[COMP_CWORD]}
	local prev=${COMP_WORDS[COMP_CWORD - 1]:-}
	local prevprev=${COMP_WORDS[COMP_CWORD - 2]:-}
	COMPREPLY=()

	if [ "$COMP_CWORD" -le 1 ]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--help -h --version -V" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$_migrate_commands" -- "$cur"))
		fi
		return 0
	fi

	local cmd=${COMP_WORDS[1]}
	case " $_migrate_commands " in
	*" $cmd "*) ;;
	*) return 0 ;; # an unknown command, or --version/--help: nothing follows
	esac

	# a value: "--opt VALUE", "--opt=VALUE" split at '=' by COMP_WORDBREAKS, or one word
	if [ "$cur" = "=" ] && [[ $prev == --* ]] && _migrate_takes_value "$cmd" "$prev"; then
		_migrate_value "$cmd" "$prev" ""
		return 0
	fi
	if [ "$prev" = "=" ] && [[ $prevprev == --* ]] && _migrate_takes_value "$cmd" "$prevprev"; then
		_migrate_value "$cmd" "$prevprev" "$cur"
		return 0
	fi
	if [[ $cur == --*=* ]]; then
		local opt=${cur%%=*}
		if _migrate_takes_value "$cmd" "$opt"; then
			_migrate_value "$cmd" "$opt" "${cur#*=}"
			local i
			for i in "${!COMPREPLY[@]}"; do
				COMPREPLY[i]="$opt=${COMPREPLY[i]}"
			done
		fi
		return 0
	fi
	if [ "$COMP_CWORD" -ge 3 ] && _migrate_takes_value "$cmd" "$prev"; then
		_migrate_value "$cmd" "$prev" "$cur"
		return 0
	fi

	if [[ $cur == -* ]]; then
		# offer the options not yet given (--applied and --rolled-back exclude each other)
		local opts=() o w given=" "
		for w in "${COMP_WORDS[@]:2}"; do
			given="$given${w%%=*} "
		done
		for o in $(_migrate_options "$cmd"); do
			[[ $given == *" $o "* && $o != "$cur" ]] && continue
			if [ "$o" = --applied ] || [ "$o" = --rolled-back ]; then
				[[ $given == *" --applied "* || $given == *" --rolled-back "* ]] && [ "$o" != "$cur" ] && continue
			fi
			opts+=("$o")
		done
		COMPREPLY=($(compgen -W "${opts[*]}" -- "$cur"))
		return 0
	fi

	# operands: `help COMMAND`, `testdb create|drop|gc`, `lint FILE...`; every other
	# command takes none
	if [ "$cmd" = testdb ]; then
		local i n=0
		for ((i = 2; i < COMP_CWORD; i++)); do
			[[ ${COMP_WORDS[i]} == -* ]] || n=$((n + 1))
		done
		[ "$n" -eq 0 ] && COMPREPLY=($(compgen -W "create drop gc" -- "$cur"))
		return 0
	fi
	if [ "$cmd" = lint ]; then
		compopt -o filenames 2>/dev/null
		local IFS=$'\n'
		COMPREPLY=($(compgen -d -- "$cur") $(compgen -f -X '!*.sql' -- "$cur"))
		return 0
	fi
	if [ "$cmd" = help ]; then
		local i n=0
		for ((i = 2; i < COMP_CWORD; i++)); do
			[[ ${COMP_WORDS[i]} == -* ]] || n=$((n + 1))
		done
		[ "$n" -eq 0 ] && COMPREPLY=($(compgen -W "$_migrate_commands" -- "$cur"))
	fi
	return 0
}

complete -F _migrate migrate
