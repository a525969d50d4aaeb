start_run
case "$HC_MODE" in
    apply) detect_containerd; do_apply ;;
    check) detect_containerd; do_check ;;
    remove) do_remove ;;
    *) die "unknown mode $HC_MODE (apply|check|remove)" ;;
esac
