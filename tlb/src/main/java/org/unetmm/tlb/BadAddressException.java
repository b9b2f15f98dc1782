package org.unetmm.tlb;

/**
 * The NIC's EFAULT: an address or byte range that cannot be translated. It is negative, its end
 * overflows the address space, its length is not positive, or it lies outside the buffer said to
 * own it. The message names the address and what would be valid.
 */
public class BadAddressException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** The address that was refused. */
    private final long address;
    /** The length of the refused range. */
    private final long length;

    /**
     * A refused range.
     *
     * @param address the address that was refused
     * @param length  the length of the refused range; 1 for a single address
     * @param message what is wrong with the range and how to fix it
     */
    public BadAddressException(long address, long length, String message) {
        super(message);
        this.address = address;
        this.length = length;
    }

    /** {@return the address that was refused} */
    public long address() {
        return address;
    }

    /** {@return the length of the refused range; 1 for a single address} */
    public long length() {
        return length;
    }

    static BadAddressException negative(long address) {
        return new BadAddressException(address, 1, "cannot translate negative address " + address
                + ": pass the address of a byte of the owner buffer (NativeMemory.address(buffer) + offset)");
    }

    static BadAddressException badRange(long address, long length) {
        if (length <= 0) {
            return new BadAddressException(address, length, "cannot translate a range of " + length
                    + " bytes at 0x" + Long.toHexString(address) + ": the length must be positive");
        }
        if (address < 0) {
            return new BadAddressException(address, length, "cannot translate " + length + " bytes at negative address "
                    + address + ": pass the address of a byte of the owner buffer (NativeMemory.address(buffer) + offset)");
        }
        return new BadAddressException(address, length, "range of " + length + " bytes at 0x"
                + Long.toHexString(address) + " overflows the address space: its end must not exceed 2^63-1");
    }
}
