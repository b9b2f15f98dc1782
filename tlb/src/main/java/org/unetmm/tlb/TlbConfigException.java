package org.unetmm.tlb;

/**
 * A {@link TlbConfig} that cannot describe a TLB: zero entries, a way count that does not divide
 * the entries into whole sets, a missing policy. Thrown when the configuration is built, so a
 * bad value fails at start and not mid-run; the message names the fix.
 */
public class TlbConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /**
     * A refused configuration.
     *
     * @param message what is wrong and which value fixes it
     */
    public TlbConfigException(String message) {
        super(message);
    }
}
