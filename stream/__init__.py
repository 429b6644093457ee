"""The stream side: the Faust app and everything that touches Kafka."""
