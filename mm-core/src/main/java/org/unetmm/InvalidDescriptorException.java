package org.unetmm;

/** A descriptor the NIC cannot accept: a bad range, a channel of another endpoint, too many scatter entries. */
public class InvalidDescriptorException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /**
     * A refused descriptor; {@code message} names the bad field and the fix.
     *
     * @param message what is wrong with the descriptor and how to fix it
     */
    public InvalidDescriptorException(String message) {
        super(message);
    }
}
