-- Wireshark dissector for the unetmm udp wire frame (nic-backend: org.unetmm.nic.udp.WireFrame),
-- wire version 3, and the selective-ack blocks of reliable control frames
-- (mm-core: org.unetmm.internal.reliable.ControlFrames).
--
--   wireshark -X lua_script:tools/wireshark/unetmm.lua capture.pcap
--   tshark -X lua_script:tools/wireshark/unetmm.lua -r capture.pcap -d udp.port==7000,unetmm
--
-- Found three ways: heuristically (any UDP datagram whose first bytes are the magic 'UNMM' and
-- whose header checksum is right), on the UDP port of the preference "unetmm.udp_port", or by
-- Decode As (udp.port == N -> UNETMM).
--
-- A datagram holds one frame, or several back to back (coalesced): every frame but the last has
-- FLAG_MORE (bit 15 of its flags). Each frame gets a subtree of its own. As the receiver does, a
-- frame whose lengths cannot be trusted ends the walk: its lengths cannot find the next header.
--
-- Header (72 bytes, little-endian):
--   0 magic 'U''N''M''M'  4 version  5 type  6 flags  8 source tag  12 destination tag
--   16 message id (8)  24 fragment offset  28 message length  32 fragment length  36 ack (8)
--   44 payload checksum  48 source connection id (8)  56 destination connection id (8)
--   64 reserved (0)  68 header checksum: CRC32C of bytes 0..67
-- Payload checksum (FLAG_CHECKSUM): CRC32C of header bytes 5..43 (type .. ack, flags without
-- FLAG_MORE) and then the payload.
-- A control frame's (ACK, NACK, CLOSE) payload is SACK blocks of 16 bytes:
--   0 prefix: fragments 0..prefix-1 received   4 message: its id less the frame's ack
--   8 bitmap (8): bit i set = fragment prefix+1+i received

local HEADER_LENGTH = 72
local VERSION = 3
local MAGIC = 0x4D4D4E55 -- 'U' 'N' 'M' 'M' read little-endian
local SACK_BYTES = 16
local MAX_SACK_BLOCKS_BYTES = 64 * 1024

local FLAG_RELIABLE = 0x0001
local FLAG_ACK = 0x0002
local FLAG_CHECKSUM = 0x0004
local FLAG_PROBE = 0x0008
local FLAG_OUT_OF_ORDER = 0x0010
local FLAG_MORE = 0x8000
local KNOWN_FLAGS = 0x801F

local TYPE_DATA = 1
local types = { [1] = "DATA", [2] = "ACK", [3] = "NACK", [4] = "CLOSE" }

local bits = bit32 or bit
local band, bxor, rshift, bnot = bits.band, bits.bxor, bits.rshift, bits.bnot

-- CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as java.util.zip.CRC32C.
local crc_table = {}
for i = 0, 255 do
    local c = i
    for _ = 1, 8 do
        if band(c, 1) ~= 0 then
            c = bxor(rshift(c, 1), 0x82F63B78)
        else
            c = rshift(c, 1)
        end
    end
    crc_table[i] = c
end

local function crc32c_update(crc, s)
    for i = 1, #s do
        crc = bxor(crc_table[band(bxor(crc, s:byte(i)), 0xFF)], rshift(crc, 8))
    end
    return crc
end

local function crc32c(s)
    return band(bnot(crc32c_update(0xFFFFFFFF, s)), 0xFFFFFFFF)
end

local unetmm = Proto("unetmm", "U-Net/MM wire frame")

local f = {
    frame = ProtoField.uint32("unetmm.frame", "Frame in datagram", base.DEC),
    magic = ProtoField.uint32("unetmm.magic", "Magic", base.HEX),
    version = ProtoField.uint8("unetmm.version", "Version", base.DEC),
    type = ProtoField.uint8("unetmm.type", "Type", base.DEC, types),
    flags = ProtoField.uint16("unetmm.flags", "Flags", base.HEX),
    flag_reliable = ProtoField.bool("unetmm.flags.reliable", "Reliable", 16, nil, FLAG_RELIABLE),
    flag_ack = ProtoField.bool("unetmm.flags.ack", "Ack valid", 16, nil, FLAG_ACK),
    flag_checksum = ProtoField.bool("unetmm.flags.checksum", "Payload checksum valid", 16, nil, FLAG_CHECKSUM),
    flag_probe = ProtoField.bool("unetmm.flags.probe", "Probe", 16, nil, FLAG_PROBE),
    flag_out_of_order = ProtoField.bool("unetmm.flags.out_of_order", "Out of order", 16, nil, FLAG_OUT_OF_ORDER),
    flag_more = ProtoField.bool("unetmm.flags.more", "More frames follow in this datagram", 16, nil, FLAG_MORE),
    src_tag = ProtoField.int32("unetmm.src_tag", "Source tag", base.DEC),
    dst_tag = ProtoField.int32("unetmm.dst_tag", "Destination tag", base.DEC),
    msg_id = ProtoField.uint64("unetmm.msg_id", "Message id", base.DEC),
    frag_offset = ProtoField.int32("unetmm.frag_offset", "Fragment offset", base.DEC),
    msg_len = ProtoField.int32("unetmm.msg_len", "Message length", base.DEC),
    frag_len = ProtoField.int32("unetmm.frag_len", "Fragment length", base.DEC),
    ack = ProtoField.uint64("unetmm.ack", "Cumulative ack", base.DEC),
    payload_crc = ProtoField.uint32("unetmm.payload_crc", "Payload checksum", base.HEX),
    payload_crc_good = ProtoField.bool("unetmm.payload_crc.good", "Payload checksum good"),
    src_conn = ProtoField.uint64("unetmm.src_conn", "Source connection id", base.HEX),
    dst_conn = ProtoField.uint64("unetmm.dst_conn", "Destination connection id", base.HEX),
    reserved = ProtoField.uint32("unetmm.reserved", "Reserved", base.HEX),
    hdr_crc = ProtoField.uint32("unetmm.hdr_crc", "Header checksum", base.HEX),
    hdr_crc_good = ProtoField.bool("unetmm.hdr_crc.good", "Header checksum good"),
    payload = ProtoField.bytes("unetmm.payload", "Payload"),
    sack = ProtoField.none("unetmm.sack", "SACK block"),
    sack_prefix = ProtoField.uint32("unetmm.sack.prefix", "Prefix (fragments received before the first missing)", base.DEC),
    sack_message = ProtoField.uint32("unetmm.sack.message", "Message (id less the ack)", base.DEC),
    sack_msg_id = ProtoField.uint64("unetmm.sack.msg_id", "Message id", base.DEC),
    sack_bitmap = ProtoField.uint64("unetmm.sack.bitmap", "Bitmap (bit i = fragment prefix+1+i)", base.HEX),
}
unetmm.fields = f

-- An expert item of severity error, named unetmm.<name>; each names the receiver's drop reason where it has one.
local function err(name, text, group)
    return ProtoExpert.new("unetmm." .. name, text, group, expert.severity.ERROR)
end

local e = {
    bad_magic = err("bad_magic", "Not a unetmm frame (bad magic)", expert.group.MALFORMED),
    bad_version = err("bad_version", "Wire version not spoken here (receiver drops it: BAD_VERSION)", expert.group.PROTOCOL),
    bad_type = err("bad_type", "Unknown frame type (BAD_TYPE)", expert.group.MALFORMED),
    bad_flags = err("bad_flags", "Unknown flag bits or reserved not 0 (BAD_FLAGS)", expert.group.MALFORMED),
    bad_tag = err("bad_tag", "Tag not positive (BAD_TAG)", expert.group.MALFORMED),
    bad_lengths = err("bad_lengths", "Fragment not inside its message (BAD_LENGTHS)", expert.group.MALFORMED),
    length_mismatch = err("length_mismatch", "Fragment length does not match the datagram (LENGTH_MISMATCH)", expert.group.MALFORMED),
    short = err("short", "Fewer bytes than a header (SHORT_DATAGRAM)", expert.group.MALFORMED),
    bad_connection = err("bad_connection", "Source connection id 0 (BAD_CONNECTION)", expert.group.MALFORMED),
    bad_hdr_crc = err("bad_hdr_crc", "Header checksum wrong (BAD_CHECKSUM)", expert.group.CHECKSUM),
    bad_payload_crc = err("bad_payload_crc", "Payload checksum wrong", expert.group.CHECKSUM),
    bad_sack = ProtoExpert.new("unetmm.bad_sack", "Control payload is not whole SACK blocks", expert.group.MALFORMED, expert.severity.WARN),
    coalesced = ProtoExpert.new("unetmm.coalesced", "Coalesced datagram", expert.group.SEQUENCE, expert.severity.CHAT),
}
unetmm.experts = e

unetmm.prefs.udp_port = Pref.uint("UDP port", 0, "A UDP port that carries unetmm frames (0: none; the heuristic still finds them)")
unetmm.prefs.check_payload = Pref.bool("Check payload checksums", true, "Verify the CRC32C of reliable frames' payloads (FLAG_CHECKSUM)")

local function signed32(v)
    if v >= 0x80000000 then
        return v - 0x100000000
    end
    return v
end

-- Dissects the frame at `at` of a datagram with `remaining` bytes left from there; returns the
-- bytes it took and whether the walk may go on to a next frame, and a summary for the Info column.
local function dissect_frame(tvb, pinfo, tree, at, remaining, index)
    local t = tree:add(unetmm, tvb:range(at, math.min(remaining, HEADER_LENGTH)), "U-Net/MM frame " .. index)
    t:add(f.frame, index):set_generated()
    if remaining < HEADER_LENGTH then
        t:add_proto_expert_info(e.short)
        return remaining, false, "short"
    end
    local function r(o, n) return tvb:range(at + o, n) end
    local magic = r(0, 4):le_uint()
    local mi = t:add_le(f.magic, r(0, 4))
    if magic ~= MAGIC then
        mi:add_proto_expert_info(e.bad_magic)
        return remaining, false, "bad magic"
    end
    local version = r(4, 1):uint()
    local vi = t:add(f.version, r(4, 1))
    if version ~= VERSION then
        vi:add_proto_expert_info(e.bad_version, "Wire version " .. version .. ", this dissector and the receiver speak " .. VERSION)
    end
    local ftype = r(5, 1):uint()
    local ti = t:add(f.type, r(5, 1))
    if types[ftype] == nil then
        ti:add_proto_expert_info(e.bad_type)
    end
    local flags = r(6, 2):le_uint()
    local fi = t:add_le(f.flags, r(6, 2))
    fi:add_le(f.flag_reliable, r(6, 2))
    fi:add_le(f.flag_ack, r(6, 2))
    fi:add_le(f.flag_checksum, r(6, 2))
    fi:add_le(f.flag_probe, r(6, 2))
    fi:add_le(f.flag_out_of_order, r(6, 2))
    fi:add_le(f.flag_more, r(6, 2))
    if band(flags, bnot(KNOWN_FLAGS)) ~= 0 then
        fi:add_proto_expert_info(e.bad_flags, string.format("Unknown flag bits 0x%04x", band(flags, bnot(KNOWN_FLAGS))))
    end
    local src = r(8, 4):le_int()
    local dst = r(12, 4):le_int()
    local si = t:add_le(f.src_tag, r(8, 4))
    local di = t:add_le(f.dst_tag, r(12, 4))
    if src <= 0 then si:add_proto_expert_info(e.bad_tag) end
    if dst <= 0 then di:add_proto_expert_info(e.bad_tag) end
    local msg_id = r(16, 8):le_uint64()
    t:add_le(f.msg_id, r(16, 8))
    local offset = r(24, 4):le_int()
    local msg_len = r(28, 4):le_int()
    local frag_len = r(32, 4):le_int()
    t:add_le(f.frag_offset, r(24, 4))
    t:add_le(f.msg_len, r(28, 4))
    local li = t:add_le(f.frag_len, r(32, 4))
    local ack = r(36, 8):le_uint64()
    t:add_le(f.ack, r(36, 8))
    local pci = t:add_le(f.payload_crc, r(44, 4))
    local sci = t:add_le(f.src_conn, r(48, 8))
    if r(48, 8):le_uint64() == UInt64(0) then sci:add_proto_expert_info(e.bad_connection) end
    t:add_le(f.dst_conn, r(56, 8))
    local rsi = t:add_le(f.reserved, r(64, 4))
    if r(64, 4):le_uint() ~= 0 then rsi:add_proto_expert_info(e.bad_flags, "Reserved is not 0") end
    local hci = t:add_le(f.hdr_crc, r(68, 4))
    local hdr_good = crc32c(tvb:raw(at, 68)) == r(68, 4):le_uint()
    t:add(f.hdr_crc_good, hdr_good):set_generated()
    if not hdr_good then
        hci:add_proto_expert_info(e.bad_hdr_crc, string.format("Header checksum wrong: 0x%08x computed", crc32c(tvb:raw(at, 68))))
    end

    local more = band(flags, FLAG_MORE) ~= 0
    local summary = string.format("%s %d→%d id %s", types[ftype] or ("type " .. ftype), src, dst, tostring(msg_id))
    if msg_len < 0 or offset < 0 or frag_len < 0 or offset > msg_len or frag_len > msg_len - offset then
        li:add_proto_expert_info(e.bad_lengths, string.format("Fragment [%d, +%d) not inside a message of %d B", offset, frag_len, msg_len))
        return remaining, false, summary .. " bad lengths"
    end
    if more and frag_len > remaining - 2 * HEADER_LENGTH then
        li:add_proto_expert_info(e.length_mismatch, string.format(
            "FLAG_MORE, but %d B of payload leave no room for another header in the %d B left", frag_len, remaining - HEADER_LENGTH))
        return remaining, false, summary .. " length mismatch"
    end
    if not more and frag_len ~= remaining - HEADER_LENGTH then
        li:add_proto_expert_info(e.length_mismatch, string.format(
            "Last frame of the datagram: %d B of payload, %d B left", frag_len, remaining - HEADER_LENGTH))
        if frag_len > remaining - HEADER_LENGTH then
            return remaining, false, summary .. " length mismatch"
        end
    end
    t:set_len(HEADER_LENGTH + frag_len)
    t:append_text(string.format(", %s, %d → %d, msg id %s, [%d, +%d) of %d B", types[ftype] or ("type " .. ftype),
        src, dst, tostring(msg_id), offset, frag_len, msg_len))
    if offset ~= 0 or frag_len ~= msg_len then
        summary = summary .. string.format(" [%d+%d/%d]", offset, frag_len, msg_len)
    else
        summary = summary .. " " .. msg_len .. " B"
    end

    if band(flags, FLAG_CHECKSUM) ~= 0 and unetmm.prefs.check_payload then
        local head = tvb:raw(at + 5, 39)
        -- the checksum is the NIC's, over its flags: without the wire's FLAG_MORE
        local f_lo, f_hi = head:byte(2), band(head:byte(3), 0x7F)
        head = head:sub(1, 1) .. string.char(f_lo, f_hi) .. head:sub(4)
        local crc = crc32c_update(0xFFFFFFFF, head)
        if frag_len > 0 then crc = crc32c_update(crc, tvb:raw(at + HEADER_LENGTH, frag_len)) end
        crc = band(bnot(crc), 0xFFFFFFFF)
        local good = crc == r(44, 4):le_uint()
        t:add(f.payload_crc_good, good):set_generated()
        if not good then pci:add_proto_expert_info(e.bad_payload_crc, string.format("Payload checksum wrong: 0x%08x computed", crc)) end
    end

    if frag_len > 0 then
        local payload = tvb:range(at + HEADER_LENGTH, frag_len)
        if ftype ~= TYPE_DATA and types[ftype] ~= nil then
            if frag_len % SACK_BYTES ~= 0 or frag_len > MAX_SACK_BLOCKS_BYTES then
                t:add(f.payload, payload):add_proto_expert_info(e.bad_sack)
            else
                for b = 0, frag_len / SACK_BYTES - 1 do
                    local o = at + HEADER_LENGTH + b * SACK_BYTES
                    local st = t:add(f.sack, tvb:range(o, SACK_BYTES))
                    local message = tvb:range(o + 4, 4):le_uint()
                    st:add_le(f.sack_prefix, tvb:range(o, 4))
                    st:add_le(f.sack_message, tvb:range(o + 4, 4))
                    st:add(f.sack_msg_id, ack + message):set_generated()
                    st:add_le(f.sack_bitmap, tvb:range(o + 8, 8))
                    st:append_text(string.format(" %d: message %s, prefix %d, bitmap 0x%s", b, tostring(ack + message),
                        tvb:range(o, 4):le_uint(), tvb:range(o + 8, 8):le_uint64():tohex()))
                end
            end
        else
            t:add(f.payload, payload)
        end
    end
    return HEADER_LENGTH + frag_len, more, summary
end

function unetmm.dissector(tvb, pinfo, tree)
    local length = tvb:len()
    pinfo.cols.protocol = "UNETMM"
    local root = tree:add(unetmm, tvb(), string.format("U-Net/MM (%d B)", length))
    local at, index, parts = 0, 0, {}
    while at < length do
        local took, more, summary = dissect_frame(tvb, pinfo, root, at, length - at, index)
        parts[#parts + 1] = summary
        at = at + took
        index = index + 1
        if not more then break end
    end
    if index > 1 then
        root:append_text(string.format(", %d coalesced frames", index))
        root:add_proto_expert_info(e.coalesced, index .. " frames in one datagram")
    end
    pinfo.cols.info = table.concat(parts, "; ")
    return length
end

-- A datagram is unetmm when it holds a header with the magic and a right header checksum.
local function heuristic(tvb, pinfo, tree)
    if tvb:len() < HEADER_LENGTH or tvb:range(0, 4):le_uint() ~= MAGIC then
        return false
    end
    if crc32c(tvb:raw(0, 68)) ~= tvb:range(68, 4):le_uint() then
        return false
    end
    unetmm.dissector(tvb, pinfo, tree)
    return true
end
unetmm:register_heuristic("udp", heuristic)

local udp_port = DissectorTable.get("udp.port")
udp_port:add_for_decode_as(unetmm)
local registered = 0
function unetmm.prefs_changed()
    if registered ~= 0 then
        udp_port:remove(registered, unetmm)
    end
    registered = unetmm.prefs.udp_port
    if registered ~= 0 then
        udp_port:add(registered, unetmm)
    end
end
