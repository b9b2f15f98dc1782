package org.unetmm.tlb;

/**
 * A context id the {@link Tlb} does not know: never returned by {@link Tlb#openContext()}, or
 * already closed with {@link Tlb#closeContext(int)}. Using a closed context is the TLB analogue
 * of a use-after-free, so it is refused rather than silently translated.
 */
public class UnknownContextException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** The id that was refused. */
    private final int context;

    /**
     * A refused id; the message says which ids are valid.
     *
     * @param context the id that was refused
     */
    public UnknownContextException(int context) {
        super("context " + context + " is not open in this TLB: use an id returned by Tlb.openContext()"
                + " and not yet passed to closeContext()");
        this.context = context;
    }

    /** {@return the id that was refused} */
    public int context() {
        return context;
    }
}
