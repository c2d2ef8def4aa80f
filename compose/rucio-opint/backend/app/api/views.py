from rest_framework import serializers, viewsets

from api.models import Action, Issue, IssueCategory


class IssueSerializer(serializers.ModelSerializer):
    class Meta:
        model = Issue
        fields = ["id", "message", "src_site", "dst_site", "type", "amount", "status", "category", "last_modified"]


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = IssueCategory
        fields = ["id", "regex", "description", "amount"]


class ActionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Action
        fields = ["id", "action"]


class IssueViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Issue.objects.order_by("-amount", "id")
    serializer_class = IssueSerializer


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = IssueCategory.objects.order_by("id")
    serializer_class = CategorySerializer


class ActionViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Action.objects.order_by("id")
    serializer_class = ActionSerializer
