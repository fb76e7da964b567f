export { fromBER, Sequence, Constructed } from "asn1js";
